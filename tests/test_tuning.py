import pytest

import jaxnn
from jaxnn.tuning import eta_threshold, lambda_search


@pytest.fixture(scope="module")
def small():
    d = jaxnn.load_mnist()
    return jaxnn.Split(d.training.x[:1000], d.training.y[:1000]), jaxnn.Split(
        d.validation.x[:500], d.validation.y[:500]
    )


def test_eta_threshold_separates_small_and_huge_learning_rates(small):
    train, _ = small
    found = eta_threshold([784, 10, 10], train, etas=[0.1, 1.0, 1e4], epochs=2, cost="cross-entropy")
    assert found.decreasing == [True, True, False]  # η = 10⁴ makes the cost jump, not fall
    assert found.threshold == 1.0 and found.suggested == 0.5
    assert found.training_cost.shape == (3, 2)
    assert "| 10000 |" in found.table()


def test_lambda_search_prefers_a_moderate_lambda_to_a_crushing_one(small):
    train, val = small
    best, res = lambda_search([784, 10, 10], train, val, 0.5, lmbdas=[0.0, 1e5], epochs=2, cost="cross-entropy")
    assert best == 0.0
    # λ = 10⁵ with η = 0.5 on 1,000 images scales the weights by 1 − ηλ/n = −49 each step: it diverges
    assert len(res.configs) == 2 and res.best_accuracy[0] > 0.5 and list(res.diverged) == [-1, 0]
