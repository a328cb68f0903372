"""Bounded, seeded fuzzing of nn's model-file reader (run in a subprocess by test_nn_model_file_fuzz.py).

Every case is written to a file and given to ``nn.load`` and to ``model.load``: the only
error allowed is ``nn.ModelFileError``, and a failed ``model.load`` must leave the model as
it was. The process runs under ``resource`` limits (address space, CPU time), so a loader
that allocated what a file declares, or looped, would fail instead of exhausting the machine.

Usage: python tests/fuzz_model_file.py EXAMPLES_PER_STRATEGY  (prints the counts as JSON)
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

MEMORY_LIMIT = 1536 * 2 ** 20   # bytes of address space for the whole process
CPU_LIMIT = 120                 # seconds


def models():
    """One model of every registered type (the registry test's examples), and a few variants."""
    import nn
    from test_nn_serialization import EXAMPLES

    return [EXAMPLES[name]() for name in sorted(nn.MODULES)] + [
        nn.MLP(2, [3, 2], activation="prelu", bias=False, seed=0),
        nn.Neuron(2, activation={"name": "leaky_relu", "slope": 0.2}, seed=2),
        nn.Layer(2, 2, activation={"name": "sign", "at_zero": 1.0}, seed=3),
        nn.Sequential(nn.Layer(2, 2, seed=4), nn.Sequential(nn.Neuron(2, activation="soft_exponential")))]


HOSTILE_NUMBERS = st.one_of(
    st.integers(-3, 3), st.integers(10 ** 6, 10 ** 12), st.integers(2 ** 53, 10 ** 400),
    st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.5, 1.0, 2.0, -0.0, 1e308, 5e-324]))
LEAVES = st.one_of(HOSTILE_NUMBERS, st.text(max_size=20), st.none(), st.booleans(),
                   st.sampled_from(["MLP", "Layer", "Neuron", "Sequential", "Maxout", "relu", "prelu",
                                    "callable"]))
KEYS = st.sampled_from(["type", "nin", "nout", "nouts", "layers", "name", "slope", "activation", "pieces"])
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)


def places(document, prefix=()):
    """Every path into a JSON document (dict keys and list indices)."""
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from places(value, prefix + (key,))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            yield from places(value, prefix + (i,))


def replaced(document, path, value):
    if not path:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = replaced(document[path[0]], path[1:], value)
    return copy


def serialise(document, spelling):
    text = json.dumps(document, allow_nan=True)
    return text.replace("-Infinity", "-1e999").replace("Infinity", "1e999") if spelling else text


@st.composite
def mutated(draw, documents):
    document = draw(st.sampled_from(documents))
    path = draw(st.sampled_from(list(places(document))))
    return serialise(replaced(document, path, draw(VALUES)), draw(st.booleans())).encode()


@st.composite
def truncated(draw, texts):
    text = draw(st.sampled_from(texts))
    return text[:draw(st.integers(0, len(text) - 1))]


@st.composite
def deep(draw):
    depth = draw(st.integers(1, 120_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a": ', "}"),
                                           ('{"type": "Sequential", "layers": [', "]}")]))
    inner = opener * depth + "1" + closer * depth
    where = draw(st.sampled_from(["document", "architecture", "parameters", "activation"]))
    header = '{"format": "chainrule.nn", "version": 1, '
    if where == "document":
        return inner.encode()
    if where == "architecture":
        return (header + '"parameters": {}, "architecture": ' + inner + "}").encode()
    if where == "parameters":
        return (header + '"architecture": {"type": "Neuron", "nin": 1, "activation": "relu"}, '
                '"parameters": {"w.0": ' + inner + "}}").encode()
    return (header + '"parameters": {}, "architecture": {"type": "Neuron", "nin": 1, "activation": '
            + inner + "}}").encode()


@st.composite
def huge(draw):
    size = st.integers(1, 10 ** 12) | st.integers(10 ** 12, 10 ** 300)
    kind = draw(st.sampled_from(["MLP", "Layer", "Maxout", "Neuron", "Sequential"]))
    architecture = {
        "MLP": lambda: {"type": "MLP", "nin": draw(size),
                        "nouts": draw(st.lists(size, min_size=1, max_size=50))
                        + [1] * draw(st.sampled_from([0, 1000, 100_000])),
                        "activation": "relu", "output_activation": "identity"},
        "Layer": lambda: {"type": "Layer", "nin": draw(size), "nout": draw(size), "activation": "prelu"},
        "Maxout": lambda: {"type": "Maxout", "nin": draw(size), "nout": draw(size), "pieces": draw(size)},
        "Neuron": lambda: {"type": "Neuron", "nin": draw(size), "activation": "sigmoid"},
        "Sequential": lambda: {"type": "Sequential",
                               "layers": [{"type": "Neuron", "nin": draw(size), "activation": "relu"}]
                               * draw(st.integers(1, 1000))},
    }[kind]()
    parameters = {f"p{i}": 0.0 for i in range(draw(st.integers(0, 20)))}
    return json.dumps({"format": "chainrule.nn", "version": 1, "architecture": architecture,
                       "parameters": parameters}).encode()


def run(examples: int) -> Counter:
    import nn

    folder = Path(tempfile.mkdtemp(prefix="chainrule-fuzz-"))
    targets = models()
    documents, texts = [], []
    for i, model in enumerate(targets):
        path = folder / f"good{i}.json"
        model.save(path)
        texts.append(path.read_text())
        documents.append(json.loads(texts[-1]))
    counts: Counter = Counter()
    path = folder / "case.json"

    def check(kind: str, raw: bytes) -> None:
        path.write_bytes(raw)
        counts[kind] += 1
        try:
            nn.load(path)
            counts["loaded"] += 1
        except nn.ModelFileError:
            counts["refused"] += 1
        model = targets[counts[kind] % len(targets)]  # each case is also loaded into one model, in turn
        before = model.state_dict()
        try:
            model.load(path)
        except nn.ModelFileError:
            assert model.state_dict() == before, f"a failed load changed {type(model).__name__}"

    strategies = {"bytes": st.binary(max_size=300), "text": st.text(max_size=300).map(str.encode),
                  "truncated": truncated(texts).map(str.encode), "mutated": mutated(documents),
                  "deep": deep(), "huge": huge()}
    for kind, strategy in strategies.items():
        fuzz(kind, strategy, examples, check)
    return counts


def fuzz(kind, strategy, examples, check) -> None:
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one_case(raw: bytes) -> None:
        check(kind, raw)

    one_case()


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))
    sys.setrecursionlimit(1000)
    print(json.dumps(run(int(sys.argv[1]))))
