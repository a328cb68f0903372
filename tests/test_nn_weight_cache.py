"""A neuron's cache of its weights' floats (keyed by autograd's data clock) is never stale.

The cache is read once per sample; these tests change the weights in the ways that
could slip past its key: a pickled model in a process whose clock starts again,
a write landing while the floats are read, two writers moving the clock at once,
and a numerical gradient check that puts the data back.
"""

from __future__ import annotations

import dis
import pickle
import sys
import threading

import nn
from autograd import value as value_module
from autograd.gradcheck import numerical_grad
from autograd.value import Value, data_clock


def test_an_unpickled_model_reads_its_weights_whatever_the_clock(monkeypatch):
    model = nn.MLP(2, [3, 1], activation="tanh", seed=7)
    start = data_clock()
    untrained = model([1.0, 2.0])[0].data  # caches the floats under `start`
    for p in model.parameters():
        p.data += 0.5
    saved = pickle.dumps(model)  # holding floats read under `start`
    trained = model([1.0, 2.0])[0].data
    monkeypatch.setattr(value_module, "_data_writes", start)  # a fresh process: the clock starts again
    loaded = pickle.loads(saved)
    assert loaded([1.0, 2.0])[0].data == trained != untrained


def test_a_write_while_a_neuron_reads_its_floats_shows_in_the_next_output():
    neuron = nn.Neuron(1, activation="identity", init=1.0)  # w x + b
    neuron.w[0].data = 2.0
    floats_read: list[int] = []

    def another_thread_writes(frame, event, arg):  # right after the floats are read
        reading_floats = frame.f_code.co_name == "<listcomp>" and frame.f_back.f_code.co_name == "_output"
        if event == "return" and reading_floats and not floats_read:
            floats_read.append(1)
            neuron.w[0].data = 5.0
        return another_thread_writes if event == "call" else None

    sys.settrace(another_thread_writes)
    try:
        neuron([1.0])
    finally:
        sys.settrace(None)
    assert floats_read and neuron([1.0]).data == 6.0


def test_two_writers_never_move_the_data_clock_back():
    # The first writer is stopped where it stores the clock, and a second thread writes
    # then: it must wait for the first one (it may not finish inside the window).
    neuron = nn.Neuron(2, activation="identity", init=1.0)  # w0 x0 + w1 x1 + 1
    setter = Value.data.fset.__code__
    clock_stores = {i.offset for i in dis.get_instructions(setter) if i.opname == "STORE_GLOBAL"}
    second: list[threading.Thread] = []

    def second_writer() -> None:
        neuron.w[1].data = 20.0
        neuron([1.0, 1.0])
        neuron.w[1].data = 30.0

    def stop_at_the_clock_store(frame, event, arg):
        if frame.f_code is not setter:
            return None
        frame.f_trace_opcodes = True
        if event == "opcode" and frame.f_lasti in clock_stores and not second:
            second.append(threading.Thread(target=second_writer))
            second[0].start()
            second[0].join(timeout=0.2)  # long enough to finish, unless it has to wait
        return stop_at_the_clock_store

    before = data_clock()
    sys.settrace(stop_at_the_clock_store)
    try:
        neuron.w[0].data = 10.0
    finally:
        sys.settrace(None)
    second[0].join()
    assert data_clock() == before + 3
    assert neuron([1.0, 1.0]).data == 10.0 + 30.0 + 1.0


def test_a_gradient_check_leaves_the_model_computing_with_its_own_weights():
    model = nn.MLP(2, [3, 1], activation="tanh", seed=3)
    before = model([0.5, -1.0])[0].data
    weights = model.layers[1].neurons[0].w
    numerical_grad(lambda *_: model([0.5, -1.0])[0], weights)
    assert model([0.5, -1.0])[0].data == before
