"""Station lists: the grammar (pure), its SQL (parameters only), and selection against a real database."""

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from geode.errors import ExitCode, UsageError
from geode.stations import (STATION_LIST_HELP, LatFilter, LonFilter, PlateFilter, RadiusFilter, Spec,
                            StationListError, StationRef, compile_spec, parse_station_list, select_stations,
                            station_rows)

fuzz = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def one(text: str) -> Spec:
    (spec,) = parse_station_list([text])
    return spec


# --- grammar ------------------------------------------------------------------------------------------------------

def test_station_forms():
    assert one("igs.pwro") == Spec("igs.pwro", network="igs", station="pwro")
    assert one("IGS.PWRO").network == "igs" and one("IGS.PWRO").station == "pwro"  # codes are case-insensitive
    assert one("pwro") == Spec("pwro", station="pwro")
    assert one("igs.all") == Spec("igs.all", network="igs")
    assert one("all") == Spec("all") and one("ALL") == Spec("ALL")
    assert one("ARG") == Spec("ARG", country="ARG")
    assert one("IGM1") == Spec("IGM1", station="igm1")  # only exactly three letters is a country (GeoDE: any upper)
    assert one("igs.p%").pattern and one("igs.p%").station == "p%"
    for pattern in ("p_ro", "[ab]%", "a%|b%", "(pw|bo)%", "[a-c]%"):
        assert one(pattern) == Spec(pattern, station=pattern, pattern=True)


def test_removals():
    assert one("-igs.pwro") == Spec("-igs.pwro", remove=True, network="igs", station="pwro")
    assert one("*pwro") == Spec("*pwro", remove=True, station="pwro")
    assert one("*ARG").country == "ARG" and one("*ARG").remove


def test_filters():
    assert one("all:LAT[-30, -40]").filters == (LatFilter(-40, -30),)  # either order
    assert one("all:lon[170,-170]").filters == (LonFilter(170, -170),)  # west->east across 180
    assert one("all:LON[350,10]").filters == (LonFilter(-10, 10),)  # 0..360 accepted
    assert one("ARG:BBOX[-30,-40,-70,-60]").filters == (LatFilter(-40, -30), LonFilter(-70, -60))
    assert one("igs.all:RADIUS[0,0,500]").filters == (RadiusFilter(0, 0, 500),)
    assert one("all:PLATE[sa]").filters == (PlateFilter("SA"),)
    assert one("all:LAT[0,10]:PLATE[SA]").filters == (LatFilter(0, 10), PlateFilter("SA"))


def test_items_split_on_spaces_and_commas_but_not_inside_filters():
    specs = parse_station_list(["igs.pwro,igs.bogt  rms.all:LAT[-30, -40]", "-igs.bogt"])
    assert [s.text for s in specs] == ["igs.pwro", "igs.bogt", "rms.all:LAT[-30, -40]", "-igs.bogt"]


def test_file_input(tmp_path):
    f = tmp_path / "list.txt"
    f.write_text("# campaign stations\nigs.pwro   # Porto Alegre\n\nrms.all, -rms.bogt\n")
    assert [s.text for s in parse_station_list([str(f)])] == ["igs.pwro", "rms.all", "-rms.bogt"]
    # a file name among other items is just an item (and not a valid one)
    with pytest.raises(StationListError):
        parse_station_list([str(f), "igs.pwro"])


@pytest.mark.parametrize("text, reason", [
    ("all:LAT(-30,-40)", "use square brackets, e.g. LAT[-30,-40]"),
    ("ARG:CGPS", "station type filters"), ("all:TYPE[CGPS]", "station type filters"),
    ("all:FOO[1]", "unknown station filter"), ("all:LAT[1]", "expected 2 numbers"),
    ("all:LAT[a,b]", "not a number"), ("all:LAT[nan,1]", "finite"), ("all:LAT[91,0]", "-90..90"),
    ("all:LON[0,400]", "-180..360"), ("all:RADIUS[0,0,-5]", "> 0 km"), ("all:PLATE[S]", "two-letter"),
    ("???.abcd", "temporary networks"), ("?xx.all", "temporary networks"), ("igs.", "bad station ''"),
    ("ig-s.pwro", "bad network code"), ("igs.pw'ro", "bad station"), ("igs.[ab", "unbalanced"),
    ("igs.(a|b%", "unbalanced"), ("-", "nothing before"), (":LAT[1,2]", "nothing before"),
])
def test_bad_items_are_one_clear_usage_error(text, reason):
    with pytest.raises(StationListError) as err:
        parse_station_list([text])
    message = str(err.value)
    assert reason in message and "\n" not in message
    assert isinstance(err.value, UsageError) and err.value.exit_code == ExitCode.USAGE


def test_help_text_covers_the_grammar():
    for word in ("net.stn", "net.all", "ARG", "LAT[", "LON[", "BBOX[", "RADIUS[", "PLATE[", "SIMILAR TO", "#", "?"):
        assert word in STATION_LIST_HELP


def test_compiled_sql_binds_everything():
    sql, params = compile_spec(one("igs.p%:RADIUS[-34.6,-58.4,500]:PLATE[SA]"))
    assert "igs" not in sql and "p%" not in sql and "-34.6" not in sql and "'" not in sql
    assert params[:3] == ["?", "igs", "p%"] and "SA" in params and 500.0 in params
    assert sql.count("%s") == len(params)


# --- property: random text never reaches SQL ----------------------------------------------------------------------

_piece = st.sampled_from(["igs", "zqx", ".", "all", "ARG", ":", "LAT[", "LON[", "BBOX[", "RADIUS[", "PLATE[",
                          "]", ",", "-", "*", "%", "_", "|", "[", "(", ")", "'", '"', ";", "?", " ", "\\", "1",
                          "-45.5", "DROP TABLE", "$$", "%s", "%(x)s", "\n", "#"])
_texts = st.lists(_piece, max_size=12).map("".join) | st.text(max_size=30)


@fuzz
@given(_texts)
def test_random_text_gives_parameterised_sql_or_station_list_error(text):
    try:
        specs = parse_station_list([text])
    except StationListError as exc:
        assert "\n" not in str(exc)
        return
    for spec in specs:
        sql, params = compile_spec(spec)
        assert re.sub(r"%s", "", sql).count("%") == 0  # only %s placeholders
        assert "'" not in sql and '"NetworkCode"' in sql and sql.count("%s") == len(params)
        assert "zqx" not in sql and "DROP" not in sql and ";" not in sql  # user text only in params
        for value in (spec.network, spec.station, spec.country):
            if value is not None:
                assert value in params


# --- database ------------------------------------------------------------------------------------------------------

STATIONS = [  # network, code, lat, lon, country, plate
    ("igs", "pwro", -30.07, -51.12, "BRA", "SA"),
    ("igs", "bogt", 4.64, -74.08, "COL", "SA"),
    ("igs", "eqtr", 0.0, 10.0, "GAB", "AF"),  # on the equator (GeoDE's RADIUS divided by zero here)
    ("igs", "fiji", -18.0, 179.5, "FJI", "AU"),
    ("igs", "tong", -21.0, -175.2, "TON", "TO"),
    ("rms", "pwro", -30.07, -51.12, "BRA", "SA"),  # same code as igs.pwro, another network
    ("rms", "bue1", -34.57, -58.44, "ARG", "SA"),
    ("rms", "bue2", -34.60, -58.40, "ARG", "SA"),
    ("rms", "nolt", None, None, "ARG", None),  # no coordinates yet
    ("???", "tmp1", -34.60, -58.40, "ARG", "SA"),  # ArchiveService's temporary network
]


@pytest.fixture
def stations(db):
    with db.transaction() as cur:
        for net in sorted({s[0] for s in STATIONS}):
            cur.execute('INSERT INTO networks ("NetworkCode") VALUES (%s)', (net,))
        for net, code, lat, lon, cc, plate in STATIONS:
            cur.execute('INSERT INTO stations ("NetworkCode", "StationCode", lat, lon, height, country_code, plate)'
                        ' VALUES (%s, %s, %s, %s, 10.0, %s, %s)', (net, code, lat, lon, cc, plate))
    return db


def names(db, *specs, **kw):
    return [str(r) for r in select_stations(db, list(specs), **kw)]


ALL_REAL = sorted(f"{n}.{c}" for n, c, *_ in STATIONS if n != "???")


def test_select_single_network_and_all(stations):
    assert names(stations, "igs.pwro") == ["igs.pwro"]
    assert names(stations, "pwro") == ["igs.pwro", "rms.pwro"]
    assert names(stations, "RMS.BUE2", "igs.bogt", "rms.bue2") == ["igs.bogt", "rms.bue2"]  # any case, deduplicated
    assert names(stations, "RMS.ALL") == ["rms.bue1", "rms.bue2", "rms.nolt", "rms.pwro"]
    assert names(stations, "all") == ALL_REAL  # sorted by (network, station), never the ??? network
    assert names(stations, "igs.pwro", "pwro", "igs.all") == [s for s in ALL_REAL if s.startswith("igs.")] + [
        "rms.pwro"]


def test_select_country_patterns_and_plate(stations):
    assert names(stations, "ARG") == ["rms.bue1", "rms.bue2", "rms.nolt"]  # tmp1 is in ???
    assert names(stations, "rms.bue_") == ["rms.bue1", "rms.bue2"]
    assert names(stations, "[bp]%") == ["igs.bogt", "igs.pwro", "rms.bue1", "rms.bue2", "rms.pwro"]
    assert names(stations, "igs.(fiji|tong)") == ["igs.fiji", "igs.tong"]
    assert names(stations, "all:PLATE[sa]") == ["igs.bogt", "igs.pwro", "rms.bue1", "rms.bue2", "rms.pwro"]


def test_select_geographic_filters(stations):
    assert names(stations, "all:LAT[-31,-29]") == ["igs.pwro", "rms.pwro"]
    assert names(stations, "all:LAT[-1,1]") == ["igs.eqtr"]
    assert names(stations, "all:LON[170,-170]") == ["igs.fiji", "igs.tong"]  # across the 180 meridian
    assert names(stations, "all:BBOX[-40,-25,-60,-50]") == ["igs.pwro", "rms.bue1", "rms.bue2", "rms.pwro"]
    assert names(stations, "all:BBOX[-40,-25,-58.42,-50]") == ["igs.pwro", "rms.bue2", "rms.pwro"]
    assert names(stations, "ARG:LAT[-90,90]") == ["rms.bue1", "rms.bue2"]  # no coordinates: never in a filter


def test_radius_is_great_circle_and_works_at_the_equator(stations):
    # Buenos Aires to Porto Alegre is about 860 km
    assert names(stations, "all:RADIUS[-34.6,-58.4,50]") == ["rms.bue1", "rms.bue2"]
    assert names(stations, "all:RADIUS[-34.6,-58.4,900]") == ["igs.pwro", "rms.bue1", "rms.bue2", "rms.pwro"]
    assert "igs.pwro" not in names(stations, "all:RADIUS[-34.6,-58.4,800]")
    assert names(stations, "all:RADIUS[0,10.5,100]") == ["igs.eqtr"]  # 55 km away along the equator
    assert names(stations, "all:RADIUS[-19.5,-178,400]") == ["igs.fiji", "igs.tong"]  # across 180


def test_removals_apply_last(stations):
    assert names(stations, "-rms.pwro", "pwro") == ["igs.pwro"]
    assert names(stations, "all", "*pwro", "*ARG") == ["igs.bogt", "igs.eqtr", "igs.fiji", "igs.tong"]
    assert names(stations, "rms.all", "-rms.all:LAT[-35,-34]") == ["rms.nolt", "rms.pwro"]
    with pytest.raises(StationListError, match="selects no station after removals"):
        select_stations(stations, ["igs.pwro", "*all"])
    assert select_stations(stations, ["igs.pwro", "*all"], allow_empty=True) == []


def test_file_of_specs(stations, tmp_path):
    f = tmp_path / "stations.lst"
    f.write_text("# south america\nARG  # Argentina\nigs.pwro\n*rms.nolt\n")
    assert names(stations, str(f)) == ["igs.pwro", "rms.bue1", "rms.bue2"]


def test_unknown_stations_are_named(stations):
    with pytest.raises(StationListError) as err:
        select_stations(stations, ["igs.pwro", "igs.xxxx", "zzzz"], allow_empty=True)
    assert str(err.value) == "unknown station(s): igs.xxxx, zzzz"
    with pytest.raises(StationListError, match=r"unknown station\(s\): rms \(for a whole network write rms.all\)"):
        select_stations(stations, ["rms"])
    with pytest.raises(StationListError, match=r"no station matches: CHL, igs.x%"):
        select_stations(stations, ["igs.pwro", "CHL", "igs.x%"])
    with pytest.raises(StationListError, match="unknown station"):
        select_stations(stations, ["tmp1"])  # tmp1 exists only in the temporary ??? network
    # removing something absent is harmless
    assert names(stations, "igs.pwro", "-igs.xxxx") == ["igs.pwro"]


def test_empty_lists_and_empty_database(db):
    with pytest.raises(StationListError, match="no stations given"):
        select_stations(db, [])
    with pytest.raises(StationListError, match="no station matches: all"):
        select_stations(db, ["all"])
    assert select_stations(db, ["all"], allow_empty=True) == []
    assert select_stations(db, [], allow_empty=True) == []


def test_pattern_postgres_rejects_is_a_station_list_error(stations):
    with pytest.raises(StationListError, match="bad station pattern"):
        select_stations(stations, ["igs.[z-a]%"])
    assert names(stations, "igs.pwro") == ["igs.pwro"]  # the connection is still usable


def test_station_rows(stations):
    refs = [StationRef("rms", "bue1"), StationRef("igs", "pwro")]
    rows = station_rows(stations, refs)
    assert [(r["NetworkCode"], r["StationCode"]) for r in rows] == [("rms", "bue1"), ("igs", "pwro")]
    assert rows[0]["lat"] == pytest.approx(-34.57) and rows[0]["height"] == 10.0
    assert rows[0]["country_code"] == "ARG" and "auto_x" in rows[0]
    assert station_rows(stations, []) == []
    with pytest.raises(StationListError, match=r"unknown station\(s\): igs.xxxx"):
        station_rows(stations, [StationRef("igs", "xxxx")])


def test_station_ref():
    ref = StationRef("igs", "pwro")
    assert str(ref) == "igs.pwro" and sorted([StationRef("rms", "a"), ref])[0] == ref
