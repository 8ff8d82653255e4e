"""Binary COPY to and from numpy: exact floats both ways, NULLs refused, numeric read as PostgreSQL's float8."""

import numpy as np
import pytest

from geode.db.bulk import copy_in, copy_out


def test_binary_copy_round_trip_is_exact(db):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 6e6, 500), [0.0, -0.0, 1e-300, np.inf, -np.inf, 6378137.123456789]])
    ids = np.arange(len(x), dtype=np.int64)
    with db.transaction() as cur:
        cur.execute("CREATE TEMP TABLE t (run varchar(8), i int8, v float8, n numeric) ON COMMIT DROP")
        assert copy_in(cur, "t", [("run", "S8", "abcdefgh"), ("i", "i8", ids), ("v", "f8", x)]) == len(x)
        cur.execute("SET LOCAL extra_float_digits = 3")  # float8 → shortest exact text → numeric (as stacks)
        cur.execute("UPDATE t SET n = v::text::numeric WHERE v NOT IN ('Infinity', '-Infinity')")
        back = copy_out(cur, "SELECT i, v FROM t WHERE run = %s ORDER BY i", ("abcdefgh",), [("i", "i8"), ("v", "f8")])
        assert np.array_equal(back["i"], ids) and np.array_equal(back["v"], x, equal_nan=False)
        # numeric read as float8 by the server equals float() of its text, which is what psycopg2 gives, and
        # the float8 → text → numeric path kept every value exactly
        finite = copy_out(cur, "SELECT n::float8 FROM t WHERE n IS NOT NULL ORDER BY i", None, [("n", "f8")])
        cur.execute("SELECT n::text AS n FROM t WHERE n IS NOT NULL ORDER BY i")
        assert finite["n"].tolist() == [float(r["n"]) for r in cur.fetchall()]
        assert np.array_equal(finite["n"], x[np.isfinite(x)])
        with pytest.raises(ValueError):
            copy_out(cur, "SELECT n::float8 FROM t", None, [("n", "f8")])  # NULLs
