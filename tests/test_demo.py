"""The README's first quick-start command: `python -m nn demo`."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "chainrule-demo"
    # Matplotlib says once per installation that it builds its font cache: not the demo's doing.
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], capture_output=True, timeout=120)
    run = subprocess.run([sys.executable, "-m", "nn", "demo", "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    return run, out


def test_demo_exits_cleanly_and_prints_the_course_gradients(demo_run):
    run, _ = demo_run
    assert run.returncode == 0, run.stderr
    assert "q = x + y = 3, f = q z = -12" in run.stdout
    assert "df/dz = q = 3, df/dq = z = -4, df/dx = df/dq * dq/dx = -4, df/dy = -4" in run.stdout
    assert "f = 0.7311" in run.stdout
    gates = "dw0 = -0.1966, dx0 = +0.3932, dw1 = -0.3932, dx1 = -0.5898, dw2 = +0.1966"
    assert run.stdout.count(gates) == 2  # primitive gates and one sigmoid gate agree


def test_demo_prints_nothing_on_stderr(demo_run):
    run, _ = demo_run
    assert run.stderr == ""  # no Fontconfig, Graphviz or library warning reaches the terminal


def test_demo_learns_xor_and_and(demo_run):
    run, _ = demo_run
    table = run.stdout.split("x1 x2 | XOR  net  | AND  net", 1)[1].strip().splitlines()[:4]
    for line in table:
        cells = line.replace("|", " ").split()
        xor_target, xor_net, and_target, and_net = map(float, cells[2:6])
        assert abs(xor_net - xor_target) < 0.1 and abs(and_net - and_target) < 0.1, line


def test_demo_writes_graphs_curve_and_model(demo_run):
    run, out = demo_run
    for name in ("chain_rule.svg", "sigmoid_neuron.svg", "sigmoid_neuron_gates.svg"):
        root = ET.parse(out / name).getroot()
        assert root.tag.endswith("svg")
    assert "data 0.7311<" in (out / "sigmoid_neuron.svg").read_text()
    assert (out / "xor_and_loss.png").read_bytes().startswith(b"\x89PNG")
    model = json.loads((out / "xor_and_model.json").read_text())
    assert model["architecture"]
    assert str(out.resolve()) in run.stdout


def test_console_script_entry_point_parses_arguments(capsys):
    from nn.__main__ import main

    assert main(["no-such-command"]) == 2
    assert "invalid choice: 'no-such-command'" in capsys.readouterr().err
