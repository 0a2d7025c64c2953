import portable_nn as pnn


def test_planar_short_run_on_every_cell(cell, dtype, planar_data):
    X, Y = planar_data
    model = pnn.train(X, Y, num_iterations=200, backend=cell.backend, device=cell.device,
                      dtype=dtype, recipe="lesson")
    assert model.layer_dims == (2, 4, 1)
    assert model.params["W1"].shape == (4, 2)
    assert 0.0 <= model.accuracy(X, Y) <= 1.0
