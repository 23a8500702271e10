"""Escalation policies: ordered steps, each paging its targets and waiting its delay
before the next one, the whole list repeated N times (as PagerDuty and GoAlert do).

A policy is a team's; an incident keeps a copy of the policy it started with, so editing
a policy never changes an escalation already under way.
"""

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from services.shared.validation import parse


class Target(BaseModel):
    """Who a step pages: one person, the on-call of a schedule layer, or the whole team."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    type: Literal["person", "layer", "team"]
    email: EmailStr | None = None
    layer: Literal["primary", "secondary"] | None = None

    @model_validator(mode="after")
    def named(self):
        if self.type == "person" and self.email is None:
            raise ValueError("a person target needs an email")
        if self.type == "layer" and self.layer is None:
            raise ValueError("a layer target needs a layer: primary or secondary")
        return self


class Step(BaseModel):
    model_config = ConfigDict(extra="ignore")

    delay_minutes: float = Field(default=15, gt=0, le=24 * 60, description="Wait before the next step")
    targets: list[Target] = Field(min_length=1)


class PolicyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    team: str = Field(min_length=1, max_length=200)
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    repeat: int = Field(default=0, ge=0, le=10, description="Run the whole list again N more times")
    steps: list[Step] = Field(min_length=1)


def parse_policy(payload):
    return parse(PolicyRequest, payload)


# Until a team sets its own: primary, then secondary, then everyone, 15 minutes apart.
DEFAULT_STEPS = [
    {"delay_minutes": 15, "targets": [{"type": "layer", "layer": "primary"}]},
    {"delay_minutes": 15, "targets": [{"type": "layer", "layer": "secondary"}]},
    {"delay_minutes": 15, "targets": [{"type": "team"}]},
]


class Plan:
    """A policy as an escalation runs it: step k of the flattened, repeated list."""

    def __init__(self, steps, repeat=0):
        self.steps = steps
        self.repeat = repeat

    @classmethod
    def default(cls):
        return cls(DEFAULT_STEPS)

    @classmethod
    def from_json(cls, text):
        if not text:
            return cls.default()
        data = json.loads(text)
        return cls(data["steps"], data.get("repeat", 0))

    def to_json(self):
        return json.dumps({"steps": self.steps, "repeat": self.repeat}, sort_keys=True)

    @property
    def length(self):
        return len(self.steps) * (self.repeat + 1)

    def step(self, index):
        return self.steps[index % len(self.steps)]

    def has_step(self, index):
        return 0 <= index < self.length

    def delay_after(self, index):
        return float(self.step(index)["delay_minutes"]) * 60

    def describe(self, index):
        """A short name of a step's targets, for the timeline: 'primary', 'team', 'bob@...'."""
        return ", ".join(target_name(target) for target in self.step(index)["targets"])


def target_name(target):
    return {"person": target.get("email"), "layer": target.get("layer"), "team": "team"}[target["type"]]


def plan_of(request):
    return Plan([step.model_dump(mode="json", exclude_none=True) for step in request.steps], request.repeat)
