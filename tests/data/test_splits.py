import pytest

from informer.data.splits import Borders, parse_ratio, split_borders
from informer.errors import ConfigError, DataError


def test_ett_hour_borders_follow_the_paper():
    borders = split_borders("ett_hour", 17420, 96)
    assert borders == Borders((0, 8640), (8640 - 96, 11520), (11520 - 96, 14400))
    assert borders.windows("train", seq_len=96, pred_len=24) == 8521
    assert borders.windows("val", seq_len=96, pred_len=24) == 2857
    assert borders.windows("test", seq_len=96, pred_len=24) == 2857


def test_ett_minute_borders_are_four_times_the_hourly_ones():
    hour = split_borders("ett_hour", 17420, 0 + 1)
    minute = split_borders("ett_minute", 69680, 0 + 1)
    assert minute.train == (0, 4 * hour.train[1])
    assert minute.val[1] == 4 * hour.val[1]
    assert minute.test[1] == 4 * hour.test[1] == 57600


def test_ett_preset_refuses_a_short_series():
    with pytest.raises(DataError, match="needs 14400 rows"):
        split_borders("ett_hour", 10000, 96)


@pytest.mark.parametrize("n", [1000, 1001, 1003, 35064, 52696])
def test_ratio_split_arithmetic(n):
    seq_len = 24
    borders = split_borders("ratio", n, seq_len)
    n_train, n_test = int(n * 0.7), int(n * 0.2)
    n_val = n - n_train - n_test
    assert borders.train == (0, n_train)
    assert borders.val == (n_train - seq_len, n_train + n_val)
    assert borders.test == (n - n_test - seq_len, n)
    # the first target row of val/test is the first row of the split
    assert borders.val[0] + seq_len == n_train
    assert borders.test[0] + seq_len == n_train + n_val


def test_custom_ratio():
    assert parse_ratio("ratio:0.8,0.1,0.1") == (0.8, 0.1, 0.1)
    borders = split_borders("ratio:0.8,0.1,0.1", 1000, 10)
    assert borders.train == (0, 800) and borders.test == (890, 1000)


@pytest.mark.parametrize("preset", ["ratio:0.5,0.5", "ratio:0.7,0.2,0.2", "ratio:a,b,c", "thirds", "ratio:0,0.5,0.5"])
def test_bad_split_names(preset):
    with pytest.raises(ConfigError):
        split_borders(preset, 1000, 10)


def test_seq_len_longer_than_train_split():
    with pytest.raises(DataError, match="too short"):
        split_borders("ratio", 100, 80)
