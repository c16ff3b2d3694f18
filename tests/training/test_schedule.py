import pytest

from informer.training.schedule import EarlyStopping, learning_rate


def test_type1_keeps_two_epochs_then_halves():
    rates = [learning_rate(e, base=1e-4, schedule="type1") for e in range(1, 6)]
    assert rates == pytest.approx([1e-4, 1e-4, 5e-5, 2.5e-5, 1.25e-5])


def test_type2_follows_the_published_table():
    rates = {e: learning_rate(e, base=1e-4, schedule="type2") for e in (1, 2, 3, 4, 5, 6, 7, 16, 30)}
    assert rates == pytest.approx({1: 1e-4, 2: 1e-4, 3: 5e-5, 4: 5e-5, 5: 1e-5, 6: 1e-5, 7: 5e-6, 16: 1e-7,
                                   30: 5e-8})


def test_constant_and_bad_epoch():
    assert learning_rate(9, base=0.1, schedule="constant") == 0.1
    with pytest.raises(ValueError):
        learning_rate(0, base=0.1, schedule="type1")


def test_early_stopping_needs_a_strict_improvement():
    stopper = EarlyStopping(patience=2)
    assert stopper.update(1.0, 1) is True
    assert stopper.update(1.0, 2) is False  # equal is not better
    assert not stopper.should_stop
    assert stopper.update(0.5, 3) is True and stopper.bad_epochs == 0
    stopper.update(0.6, 4)
    stopper.update(0.7, 5)
    assert stopper.should_stop and stopper.best == 0.5 and stopper.best_epoch == 3
