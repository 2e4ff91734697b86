"""The core from Python: loading, errors, context, options, rng, threads."""
import os
import threading

import pytest

import hwnas


def test_version_matches_library():
    assert hwnas.version == "%d.%d.%d" % (hwnas.version_number // 10000,
                                          hwnas.version_number // 100 % 100,
                                          hwnas.version_number % 100)
    assert hwnas.library_path.endswith("libhwnas.so.0")


def test_abi_and_build_features():
    assert hwnas.abi_version == 0
    assert hwnas.library_path.endswith("libhwnas.so.%d" % hwnas.abi_version)
    # every known feature, in the C function's order, each a bool
    assert list(hwnas.build_features)[:3] == ["onednn", "mpi", "onnx"]
    assert all(isinstance(v, bool) for v in hwnas.build_features.values())
    raw = hwnas._native.lib.hwnas_build_features().decode()
    assert raw == ";".join("%s=%s" % (k, "yes" if v else "no")
                           for k, v in hwnas.build_features.items())


def test_library_search_order(monkeypatch):
    """Installed (hwnas/_install.py present): beside the package, the
    recorded libdir, pkg-config's, then HWNAS_LIBRARY. Elsewhere:
    HWNAS_LIBRARY alone when set."""
    native = hwnas._native
    here = os.path.dirname(os.path.abspath(native.__file__))
    monkeypatch.setenv("HWNAS_LIBRARY", "/env/libhwnas.so.0")
    monkeypatch.setattr(native, "_pkg_config_libdir", lambda: "/pc")
    monkeypatch.setattr(native, "_installed", lambda: ("../../lib", "/usr/lib/x"))
    assert list(native._candidates()) == [
        os.path.normpath(os.path.join(here, "../../lib", "libhwnas.so.0")),
        "/usr/lib/x/libhwnas.so.0", "/pc/libhwnas.so.0", "/env/libhwnas.so.0"]
    monkeypatch.setattr(native, "_installed", lambda: None)
    assert list(native._candidates()) == ["/env/libhwnas.so.0"]
    monkeypatch.delenv("HWNAS_LIBRARY")
    got = list(native._candidates())
    assert got[0] == "/pc/libhwnas.so.0" and got[1].endswith("build/lib/libhwnas.so.0")
    # the source tree has no _install.py: only meson install writes it
    assert not os.path.exists(os.path.join(here, "_install.py"))


def test_context_keywords_and_string():
    ctx = hwnas.Context(seed=1)
    assert ctx.seed == 1
    assert ctx.threads >= 1
    ctx2 = hwnas.Context("threads=2", seed=7, log_level="info")
    assert (ctx2.threads, ctx2.seed) == (2, 7)
    assert ctx2.options["log_level"] == "info"
    ctx2.set_option("threads", 1)
    assert ctx2.threads == 1
    with hwnas.Context(threads=1) as c:
        assert c.threads == 1


def test_bad_option_names_the_key():
    with pytest.raises(hwnas.Error) as e:
        hwnas.Context(thread=2)
    assert "'thread'" in str(e.value)
    assert "threads, seed, log_level" in str(e.value)
    assert e.value.code == -1
    assert isinstance(e.value, hwnas.InvalidArgument)
    assert isinstance(e.value, ValueError)
    with pytest.raises(hwnas.InvalidArgument, match=r"\[0, 4096\]"):
        hwnas.Context(threads=-1)
    ctx = hwnas.Context()
    with pytest.raises(hwnas.InvalidArgument, match="log_level"):
        ctx.set_option("log_level", "loud")


def test_error_str():
    assert hwnas.error_str(0) == "success"
    assert hwnas.error_str(-2) == "out of memory"
    assert hwnas.error_str(-12345) == "unknown error"


def test_describe_and_kinds():
    ctx = hwnas.Context()
    assert "context" in ctx.kinds()
    infos = ctx.describe("context")
    names = [o.name for o in infos]
    assert names == ["threads", "seed", "log_level", "engine"]
    threads = infos[0]
    assert threads.type == "int" and threads.default == "0" and threads.range == "[0, 4096]"
    assert infos[2].range == "error|warn|info|debug"
    with pytest.raises(hwnas.NotFound, match="unknown kind 'nope'"):
        ctx.describe("nope")


def test_options_object():
    ctx = hwnas.Context()
    opts = hwnas.Options(ctx, "context", "threads=3")
    assert opts["threads"] == 3
    assert opts["log_level"] == "warn"
    opts["seed"] = 42
    assert opts.format(only_changed=True) == "threads=3;seed=42"
    assert "seed" in opts and "bogus" not in opts
    with pytest.raises(hwnas.InvalidArgument, match="valid keys"):
        opts["bogus"]
    with pytest.raises(hwnas.InvalidArgument, match="expects an integer"):
        opts.parse("threads=two")
    assert opts["threads"] == 3  # unchanged by the failed parse
    opts.reset()
    assert opts.to_dict() == {"threads": 0, "seed": 0, "log_level": "warn", "engine": "auto"}
    with pytest.raises(TypeError):
        ctx.options.set("threads", 2)


M = (1 << 64) - 1


def _mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def _reference_stream(seed, stream, n):
    """doc/rng.md's definition, written independently in Python."""
    x = (_mix(seed) + _mix(stream ^ 0x6A09E667F3BCC909)) & M
    s = []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & M
        s.append(_mix(x))
    rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & M
    out = []
    for _ in range(n):
        out.append((rotl((s[1] * 5) & M, 7) * 9) & M)
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def test_rng_matches_documented_algorithm():
    ctx = hwnas.Context()
    for seed, stream in [(0, 0), (42, 1), (2**63 - 1, 123456789)]:
        r = hwnas.Rng(ctx, seed, stream)
        assert [r.u64() for _ in range(8)] == _reference_stream(seed, stream, 8)


def test_rng_save_load_and_ranges():
    ctx = hwnas.Context()
    r = hwnas.Rng(ctx, 3, 4)
    state = r.save()
    a = [r.below(10) for _ in range(100)]
    assert all(0 <= v < 10 for v in a)
    r.load(state)
    assert [r.below(10) for _ in range(100)] == a
    assert 0.0 <= r.uniform() < 1.0
    with pytest.raises(hwnas.InvalidArgument):
        r.load(bytes(32))
    with pytest.raises(ValueError):
        r.load(b"short")


def test_log_callback():
    ctx = hwnas.Context(log_level="info")
    seen = []
    ctx.set_log(lambda level, msg: seen.append((level, msg)))
    ctx.log(hwnas.LOG_INFO, "hello 100%")
    ctx.log(hwnas.LOG_DEBUG, "filtered")
    assert seen == [(hwnas.LOG_INFO, "hello 100%")]
    ctx.set_log(None)


def test_parallel_for_runs_every_index_and_propagates_errors():
    ctx = hwnas.Context(threads=2)
    out = [None] * 500
    workers = set()
    lock = threading.Lock()

    def body(i, worker):
        out[i] = i * i
        with lock:
            workers.add(worker)

    ctx.parallel_for(500, body)
    assert out == [i * i for i in range(500)]
    assert workers <= {0, 1}

    def failing(i, worker):
        if i == 3:
            raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        ctx.parallel_for(100, failing)
