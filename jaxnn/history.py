"""What happened in each epoch of a training run: the record [`jaxnn.sgd`][jaxnn.training.sgd] returns."""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Tuple

import numpy as np

from jaxnn.errors import JaxnnError


@dataclasses.dataclass
class History:
    """What happened in each epoch of [`jaxnn.sgd`][jaxnn.training.sgd].

    The four lists of network2's ``SGD`` are here as ``evaluation_cost``,
    ``evaluation_correct``, ``training_cost`` and ``training_correct`` (each empty unless
    monitored); [`network2_lists`][jaxnn.history.History.network2_lists] returns them in network2's order. network3's report,
    the test accuracy at the best validation epoch, is [`best_validation`][jaxnn.history.History.best_validation].

    Attributes:
      epoch: epoch numbers, from 0 as network.py prints them.
      evaluation_correct: correctly classified evaluation examples per epoch.
      evaluation_size: the number of evaluation examples.
      evaluation_cost: the regularized cost on the evaluation data per epoch (network2's
        ``total_cost``).
      training_cost: the same on the training data.
      training_correct: correctly classified training examples per epoch.
      training_size: the number of training examples.
      test_correct: with ``test_data``, the correctly classified test examples in each epoch
        whose evaluation accuracy is at least the best so far, as network3 measures them, and
        ``None`` in the other epochs.
      test_size: the number of test examples.
      eta: the learning rate used in each epoch (it changes under a schedule).
      seconds: wall time of each epoch's training call (the first includes compilation).
      steps_per_epoch: the gradient steps in each epoch.
      stopped: why training ended before ``epochs``, or ``None``.
    """

    epoch: List[int] = dataclasses.field(default_factory=list)
    evaluation_correct: List[int] = dataclasses.field(default_factory=list)
    evaluation_size: int = 0
    evaluation_cost: List[float] = dataclasses.field(default_factory=list)
    training_cost: List[float] = dataclasses.field(default_factory=list)
    training_correct: List[int] = dataclasses.field(default_factory=list)
    training_size: int = 0
    test_correct: List[Optional[int]] = dataclasses.field(default_factory=list)
    test_size: int = 0
    eta: List[float] = dataclasses.field(default_factory=list)
    seconds: List[float] = dataclasses.field(default_factory=list)
    steps_per_epoch: int = 0
    stopped: Optional[str] = None

    @property
    def evaluation_accuracy(self) -> List[float]:
        """Evaluation accuracy per epoch, as fractions."""
        return [c / self.evaluation_size for c in self.evaluation_correct]

    @property
    def training_accuracy(self) -> List[float]:
        """Training accuracy per epoch, as fractions."""
        return [c / self.training_size for c in self.training_correct]

    @property
    def test_accuracy(self) -> List[Optional[float]]:
        """Test accuracy per epoch as fractions, ``None`` where it was not measured."""
        return [None if c is None else c / self.test_size for c in self.test_correct]

    def best(self) -> Tuple[int, float]:
        """The best epoch and its evaluation accuracy (the figure the book reports), the
        first one on a tie."""
        if not self.evaluation_correct:
            raise JaxnnError("no evaluation accuracy was recorded (pass evaluation_data), so there is no best epoch")
        i = int(np.argmax(self.evaluation_correct))
        return self.epoch[i], self.evaluation_correct[i] / self.evaluation_size

    def best_validation(self) -> Tuple[int, float, Optional[float]]:
        """network3's report: ``(epoch, validation accuracy, test accuracy)`` at the best
        evaluation (validation) epoch, the later one on a tie (network3 compares with >=)."""
        if not self.evaluation_correct:
            raise JaxnnError("no validation accuracy was recorded (pass evaluation_data), so there is no best epoch")
        v = np.asarray(self.evaluation_correct)
        i = int(len(v) - 1 - np.argmax(v[::-1]))
        test = self.test_accuracy[i] if i < len(self.test_correct) else None
        return self.epoch[i], self.evaluation_correct[i] / self.evaluation_size, test

    def network2_lists(self):
        """``(evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)`` as network2
        returns them (accuracies as counts)."""
        return (self.evaluation_cost, self.evaluation_correct, self.training_cost, self.training_correct)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


__all__ = ["History"]
