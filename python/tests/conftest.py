"""Shared fixtures: where ../shared and the CLI are, and one build of the sample data."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("PRW_SHARED") or os.path.join(os.path.dirname(ROOT), "shared")
CLI = os.environ.get("PRW") or os.path.join(ROOT, "build", "release", "proberows")


def shared(*parts):
    p = os.path.join(SHARED, *parts)
    if not os.path.exists(p):
        pytest.skip(f"{p} is absent (../shared)")
    return p


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """proberows.build on examples/*.parquet, and the CLI's output of the same job."""
    import proberows

    out = tmp_path_factory.mktemp("build")
    manifest = proberows.build(os.path.join(ROOT, "examples", "*.parquet"), str(out / "py"))
    cli_out = None
    if os.access(CLI, os.X_OK):
        cli_out = out / "cli"
        subprocess.run([CLI, "build", "--input", os.path.join(ROOT, "examples", "*.parquet"),
                        "--output", str(cli_out), "--quiet"], check=True)
    return out / "py", manifest, cli_out
