"""The names every component agrees on: Kafka topics and Delta tables (see ARCHITECTURE.md)."""

from enum import StrEnum

CONSUMER_GROUP = "codemill"  # the Faust app id, which Kafka sees as the consumer group


class Topic(StrEnum):
    GIT_PUSH = "codemill.git.push"
    FEEDBACK = "codemill.feedback"
    EXAMPLES = "codemill.examples"
    DRIFT_ALERTS = "codemill.drift.alerts"
    MODELS = "codemill.models"


class Table(StrEnum):
    COMMITS = "commits"
    COMPLETION = "completion"
    REFACTORING = "refactoring"
    NAMING = "naming"
    ARCHITECTURE = "architecture"
    ERROR_FIX = "error_fix"
    FEEDBACK = "feedback"
    REJECTS = "rejects"
    MODELS = "models"
    DRIFT_REPORTS = "drift_reports"
