"""The ``[learning]`` table of a learning file: who learns, how, and on what grid.

A learning file is an economy file with a ``[learning]`` table (or a ``[learning]`` table that
names its economy with ``economy = "path.toml"``, relative to the file; or ``environment =
"calvano"`` and no economy at all). The table is read here and stripped before emgame's economy
loader sees the rest, so the economy schema is untouched. Unknown keys are errors naming the
file and the key.

```toml
[learning]
environment = "market"          # or "calvano" (logit Bertrand, [learning.calvano])
learners = ["utility-scale-solar"]   # producer or consumer types; every agent of each learns
others = "equilibrium"          # the round given the learners' actions: Nash ("equilibrium",
                                # also spelt "best-response"), the competitive benchmark
                                # ("price-taking"), or the others fixed at their certified
                                # Nash profile ("nash")
actions = 15                    # m: grid points per learning producer
patterns = [["day"], ["night", "day"]]   # learning consumers: the sets of posts they may pay
                                # on (post labels; default every set the utility allows);
                                # a learning consumer's m is the number of patterns
share_post = "day"              # instead of patterns: learning consumers choose the share of
                                # their income bid on this post (m = actions grid points), the
                                # rest best-responds
widen = 0.1                     # ξ: the grid extends this share of its span on both sides
algorithm = "q-learning"        # or "hedge" (full information), "exp3" (bandit)
memory = 1                      # k: joint actions remembered (Q-learning's state)
alpha = 0.15                    # learning rate
beta = 4e-6                     # exploration decay: ε_t = exp(-β t)
delta = 0.95                    # discount factor
stable_rounds = 100000          # converged: no greedy action changed for this many rounds
max_rounds = 10000000           # Q-learning's round limit
rounds = 200000                 # Hedge/EXP3 horizon
seed = 0                        # base seed: session k uses SeedSequence(seed, spawn_key=(k,))
```
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class LearningFileError(ValueError):
    """A learning file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class CalvanoTable(_Strict):
    n: int = Field(2, ge=2, le=4)
    c: float = 1.0
    a: float = 2.0
    a0: float = 0.0
    mu: float = Field(0.25, gt=0)


class LearningTable(_Strict):
    environment: Literal["market", "calvano"] = "market"
    economy: str | None = None
    learners: list[str] = Field(default_factory=list)
    others: Literal["equilibrium", "best-response", "best_response", "price-taking",
                    "nash"] = "equilibrium"
    actions: int = Field(15, ge=2, le=101)
    patterns: list[list[str]] | None = None
    share_post: str | None = None
    widen: float = Field(0.1, ge=0, le=1)
    depth: float = Field(0.5, gt=0, lt=1)
    algorithm: Literal["q-learning", "hedge", "exp3"] = "q-learning"
    memory: int = Field(1, ge=1, le=3)
    alpha: float = Field(0.15, gt=0, le=1)
    beta: float = Field(4e-6, ge=0)
    delta: float = Field(0.95, ge=0, lt=1)
    stable_rounds: int = Field(100_000, ge=1)
    max_rounds: int = Field(10_000_000, ge=1)
    rounds: int = Field(200_000, ge=1)
    eta: float | None = Field(None, gt=0)
    gamma: float | None = Field(None, gt=0, le=1)
    seed: int = Field(0, ge=0)
    thin: int = Field(1000, ge=1)
    impulse_rounds: int = Field(25, ge=1, le=1000)
    calvano: CalvanoTable = Field(default_factory=CalvanoTable)


class StudyParameter(_Strict):
    path: str
    values: list[float]
    label: str | None = None


@dataclass(frozen=True)
class LearningConfig:
    """A validated ``[learning]`` table (see the module notes for every key)."""

    environment: str = "market"
    learners: tuple[str, ...] = ()
    others: str = "equilibrium"
    actions: int = 15
    patterns: tuple[tuple[str, ...], ...] | None = None
    share_post: str | None = None
    widen: float = 0.1
    depth: float = 0.5
    algorithm: str = "q-learning"
    memory: int = 1
    alpha: float = 0.15
    beta: float = 4e-6
    delta: float = 0.95
    stable_rounds: int = 100_000
    max_rounds: int = 10_000_000
    rounds: int = 200_000
    eta: float | None = None
    gamma: float | None = None
    seed: int = 0
    thin: int = 1000
    impulse_rounds: int = 25
    calvano: dict[str, Any] = field(default_factory=lambda: CalvanoTable().model_dump())

    def replace(self, **changes: Any) -> LearningConfig:
        d = asdict(self)
        d.update(changes)
        return LearningConfig(**d)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["learners"] = list(self.learners)
        if self.patterns is not None:
            d["patterns"] = [list(p) for p in self.patterns]
        else:
            d.pop("patterns")     # absent: the run id of files without it stays as it was
        if self.share_post is None:
            d.pop("share_post")
        return d


@dataclass(frozen=True)
class LearningSpec:
    """What a learning file describes: the configuration, the economy (as a dict, for the
    market environment), the study's parameters (if any) and where it came from."""

    name: str
    config: LearningConfig
    economy: dict[str, Any] | None
    source: str
    parameters: tuple[tuple[str, tuple[float, ...], str], ...] = ()
    point: dict[str, Any] | None = None

    @property
    def run_id(self) -> str:
        """A hash of everything that determines the sessions (not the number of them)."""
        blob = json.dumps({"config": self.config.to_dict(), "economy": self.economy,
                           "point": self.point},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def points(self) -> list[LearningSpec]:
        """The study's points: one parameter changed at a time (the file itself when none)."""
        if not self.parameters:
            return [self]
        out = []
        for path, values, label in self.parameters:
            for v in values:
                eco, cfg = _apply(self, path, v)
                out.append(LearningSpec(f"{self.name} [{path} = {_fmt(v)}]", cfg, eco,
                                        self.source, (),
                                        {"study": self.name, "path": path, "value": v,
                                         "label": label or path}))
        return out


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _apply(spec: LearningSpec, path: str, value: float) -> tuple[dict | None, LearningConfig]:
    """Set ``path`` to ``value``: ``learning.KEY``, ``verification.fixed`` /
    ``verification.share``, or ``consumers.NAME.KEY`` / ``producers.NAME.KEY``."""
    parts = path.split(".")
    if parts[0] == "learning" and len(parts) == 2:
        v: Any = int(value) if parts[1] in ("actions", "memory", "seed") else value
        return spec.economy, spec.config.replace(**{parts[1]: v})
    if spec.economy is None:
        raise LearningFileError(f"{spec.source}: parameters.path = {path!r}: the Calvano "
                                "environment has no economy to change")
    eco = copy.deepcopy(spec.economy)
    if parts[0] == "verification" and len(parts) == 2:
        eco.setdefault("verification", {})[parts[1]] = value
        return eco, spec.config
    if parts[0] in ("consumers", "producers") and len(parts) == 3:
        for t in eco.get(parts[0], []):
            if t.get("name") == parts[1]:
                t[parts[2]] = int(value) if parts[2] == "count" else value
                return eco, spec.config
        raise LearningFileError(f"{spec.source}: parameters.path = {path!r}: no {parts[0][:-1]} "
                                f"type named {parts[1]!r}")
    raise LearningFileError(f"{spec.source}: parameters.path = {path!r}: expected learning.KEY, "
                            "verification.fixed|share, or consumers|producers.NAME.KEY")


def _problems(exc: ValidationError, prefix: str) -> str:
    out = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in (prefix, *err["loc"]))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        out.append(f"{loc}: {msg} (got {err.get('input')!r})" if err["type"] != "extra_forbidden"
                   else f"{loc}: {msg}")
    return "; ".join(out)


def parse_learning(data: dict[str, Any], source: str = "<dict>",
                   base_dir: Path | None = None) -> LearningSpec:
    """Split a learning file's data into its ``[learning]`` table and its economy."""
    data = dict(data)
    if "learning" not in data:
        raise LearningFileError(f"{source}: no [learning] table (a learning file is an economy "
                                "file with a [learning] table)")
    raw = data.pop("learning")
    params_raw = data.pop("parameters", [])
    if not isinstance(raw, dict):
        raise LearningFileError(f"{source}: learning: expected a table")
    try:
        table = LearningTable.model_validate(raw)
    except ValidationError as exc:
        raise LearningFileError(f"{source}: {_problems(exc, 'learning')}") from None
    params = []
    for k, p in enumerate(params_raw if isinstance(params_raw, list) else [params_raw]):
        try:
            sp = StudyParameter.model_validate(p)
        except ValidationError as exc:
            raise LearningFileError(f"{source}: {_problems(exc, f'parameters[{k}]')}") from None
        params.append((sp.path, tuple(sp.values), sp.label or sp.path))
    base_dir = base_dir or Path(".")
    name = data.get("name", Path(source).stem)
    economy: dict[str, Any] | None = None
    if table.environment == "market":
        if table.economy is not None:
            path = (base_dir / table.economy)
            try:
                with open(path, "rb") as fh:
                    economy = tomllib.load(fh)
            except OSError as exc:
                raise LearningFileError(f"{source}: learning.economy: cannot read {path}: "
                                        f"{exc.strerror or exc}") from None
            except tomllib.TOMLDecodeError as exc:
                raise LearningFileError(f"{path}: invalid TOML: {exc}") from None
            economy.pop("learning", None)
            if "name" in data:
                economy["name"] = data["name"]
            extra = set(data) - {"name"}
            if extra:
                raise LearningFileError(f"{source}: {sorted(extra)[0]}: unknown key (the economy "
                                        "comes from learning.economy)")
        else:
            economy = data
        if not table.learners:
            raise LearningFileError(f"{source}: learning.learners: name at least one producer "
                                    "or consumer type that learns")
    else:
        extra = set(data) - {"name"}
        if extra or table.economy is not None:
            key = "learning.economy" if table.economy is not None else sorted(extra)[0]
            raise LearningFileError(f"{source}: {key}: the Calvano environment takes no economy")
    d = table.model_dump()
    d["learners"] = tuple(d["learners"])
    if d["others"] in ("best-response", "best_response"):
        d["others"] = "equilibrium"          # one reading, two spellings (docs/learning.md)
    if d["patterns"] is not None:
        if not d["patterns"] or any(not p for p in d["patterns"]):
            raise LearningFileError(f"{source}: learning.patterns: give at least one pattern, "
                                    "each a non-empty list of post labels")
        d["patterns"] = tuple(tuple(p) for p in d["patterns"])
        if d["share_post"] is not None:
            raise LearningFileError(f"{source}: learning.share_post: a learning consumer learns "
                                    "either its participation (learning.patterns) or its bid "
                                    "share on one post (learning.share_post), not both")
    d.pop("economy")
    cfg = LearningConfig(**d)
    return LearningSpec(str(name), cfg, economy, source, tuple(params))


def load_learning(path: str | Path) -> LearningSpec:
    """Read a learning file (TOML); errors name the file and the key."""
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise LearningFileError(f"{source}: cannot read file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LearningFileError(f"{source}: invalid TOML: {exc}") from None
    return parse_learning(data, source, Path(path).parent)
