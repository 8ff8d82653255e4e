"""Cross-check of the QC metrics against an independent implementation, gnssmultipath 2.2 (P. H. Aarnes, after
B.-E. Roald's GNSS_Receiver_QC_2020), on the same synthetic RINEX 2.11 and 3.04 files with the matching broadcast
navigation file: code multipath RMS per band within 10 % and cycle-slip counts within 5 %.

How gnssmultipath's numbers are read (its own definitions differ from teqc's in two documented ways):
  * it flags a cycle slip where the rate of its ionospheric-delay estimate exceeds ``ionLimit``; with its
    default (4/60 m/s, i.e. 2 m in 30 s) it sees none of these slips, so it runs with 0.004 m/s (0.12 m in 30 s,
    above the synthetic ionosphere's rate, below the smallest injected slip's 0.17 m);
  * it also turns every epoch a satellite is missing between its first and last observation into a "slip
    period" (a set and a rise, a satellite gap): only slip periods with observations on every epoch are slips.
    Its band-1 analysis (ionosphere from L1 and the other phase of the pair) is the one compared; its band-2/5
    analyses derive the ionosphere from a noisier phase and flag many more periods at this threshold.
The files hold slips, satellite gaps and multipath but no epoch gaps or clock jumps, which gnssmultipath also
reports as slips (see test_qc.py for those).

gnssmultipath runs in a subprocess (it configures logging and matplotlib globally and prints progress bars).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from geode.rinex.qc import qc_file
from geode.rinex.synth import render
from geode.rinex.synth_physics import navigation_text

from .test_qc import SIZES, _faults

pytest.importorskip("gnssmultipath")

V2_DUAL = ("C1C", "L1C", "S1C", "P2W", "L2W", "S2W")  # RINEX 2: L1/L2 only, so both tools pair the same bands

RUNNER = textwrap.dedent("""
    import json, sys
    import numpy as np
    from gnssmultipath import GNSS_MultipathAnalysis
    obs, nav, out, systems = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    res = GNSS_MultipathAnalysis(obs, broadcastNav1=nav, outputDir=out, plotEstimates=False, plot_polarplot=False,
                                 save_results_as_pickle=False, write_results_to_csv=False, use_LaTex=False,
                                 ionLimit=0.004, desiredGNSSsystems=systems)
    summary = {}
    for name, letter in (("GPS", "G"), ("Galileo", "E")):
        if name not in res:
            continue
        for band in [k for k in res[name] if k.startswith("Band_")]:
            for code in res[name][band]["Codes"]:
                c = res[name][band][code]
                phase = np.asarray(c["phase1_observations"])
                slips = []
                for prn, periods in c["cycle_slip_periods"].items():
                    for a, b in (periods if len(periods) else []):
                        a, b = int(a), int(b)
                        seg = phase[a:b + 2, int(prn)]
                        if not np.any((seg == 0) | np.isnan(seg)):  # observed throughout: a slip, not a gap
                            slips.append([f"{letter}{int(prn):02d}", b + 1])
                summary[letter + band.split("_")[1]] = {
                    "code": code, "rms": float(c["rms_multipath_range1_averaged"]), "slips": slips}
    print("RESULT " + json.dumps(summary))
""")


def _gnssmultipath(tmp_path, obs, nav, systems):
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(obs), str(nav), str(tmp_path / "out"),
                           json.dumps(systems)], capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


@pytest.mark.parametrize("version", [3.04, 2.11])
def test_multipath_and_slips_agree_with_gnssmultipath(tmp_path, version):
    spec = _faults(version).with_(epoch_gaps=(), clock_jumps=(), clock_jumps_both=())
    if version < 3:
        spec = spec.with_(obs_types=V2_DUAL)
    obs = tmp_path / ("QCSS00ARG_R_20241000000_01D_30S_MO.rnx" if version >= 3 else "qcss1000.24o")
    obs.write_text(render(spec))
    nav = tmp_path / ("BRDC00IGS_R_20241000000_01D_MN.rnx" if version >= 3 else "brdc1000.24n")
    nav.write_text(navigation_text(spec))
    systems = ["G", "E"] if version >= 3 else ["G"]  # a RINEX 2 navigation file holds GPS only
    ours = qc_file(obs)
    theirs = _gnssmultipath(tmp_path, obs, nav, systems)

    bands = ["G1", "G2", "E1", "E5"] if version >= 3 else ["G1", "G2"]
    for band in bands:
        assert theirs[band]["code"] == ours.mp_signal[band]
        assert ours.mp_rms[band] == pytest.approx(theirs[band]["rms"], rel=0.10), (band, ours.mp_rms[band],
                                                                                  theirs[band]["rms"])
    their_slips = sum(len(theirs[f"{s}1"]["slips"]) for s in systems)
    # RINEX 2 here: Galileo has L1 only (no dual-frequency slip detection in either tool), GPS L1/L2
    injected = sum(1 for s in spec.slips if s[0][0] in systems)
    assert injected == (len(SIZES) if version >= 3 else sum(1 for s in spec.slips if s[0][0] == "G"))
    assert abs(ours.slips - their_slips) <= 0.05 * their_slips, (ours.slips, their_slips)
    assert ours.slips == injected
