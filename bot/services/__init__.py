"""Use cases shared by every adapter: engine plus storage, returning view models to render."""

from .bank import load_article, open_bank
from .quiz import QuizService
from .views import NothingToReview, ProgressView, QuestionView, ResultView, RevealView

__all__ = [
    "NothingToReview",
    "ProgressView",
    "QuestionView",
    "QuizService",
    "ResultView",
    "RevealView",
    "load_article",
    "open_bank",
]
