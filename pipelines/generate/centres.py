"""Synthetic centres and how they change between quarterly register submissions."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field, replace

from pipelines.generate.geography import (
    CITIES,
    OPERATORS,
    RACKS_EAST,
    RACKS_WEST,
    WEIGHTS,
    WESTERN_HUB_PROVINCES,
)
from pipelines.reference import Reference
from schemas.uscc import ALPHABET, uscc_check_character


@dataclass(frozen=True)
class CentreState:
    """A centre's register values in one quarter (the truth of what was submitted)."""

    centre_id: str
    centre_name: str
    operator_name: str
    operator_uscc: str
    province_code: str
    city: str
    cluster_code: str | None
    design_racks: int
    design_it_kw: int
    design_pue: float
    centre_type: str
    design_pflops: float | None
    licence_no: str
    licence_issued: dt.date
    licence_expires: dt.date
    commissioned: dt.date | None
    status: str


@dataclass
class Centre:
    """A centre across quarters: `states[q]` is None where it is not in quarter q's file."""

    city_en: str
    states: list[CentreState | None] = field(default_factory=list)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def make_uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + uscc_check_character(body)


def make_centres(rng: random.Random, reference: Reference, count: int,
                 vintages: list[dt.date]) -> list[Centre]:
    """`count` centres spread over provinces by WEIGHTS, each with a state per quarter."""
    provinces = sorted(WEIGHTS)
    operators = [(zh, en, make_uscc(rng, f"{rng.choice(provinces)}0000"))
                 for zh, en in OPERATORS]
    clusters_in = {}
    for code, (_, province_codes) in sorted(reference.cluster_places.items()):
        for province in province_codes:
            clusters_in.setdefault(province, []).append(code)
    sequence: dict[str, int] = {}
    centres = []
    chosen = rng.choices(provinces, weights=[WEIGHTS[p] for p in provinces], k=count)
    for province in sorted(chosen):
        city_code, city_zh, city_en = rng.choice(CITIES[province])
        sequence[city_code] = sequence.get(city_code, 0) + 1
        operator_zh, _, uscc = rng.choice(operators)
        low, high = RACKS_WEST if province in WESTERN_HUB_PROVINCES else RACKS_EAST
        racks = rng.randrange(low, high) // 10 * 10
        centre_type = rng.choices(["general", "intelligent", "supercomputing"], [80, 17, 3])[0]
        pflops = {"intelligent": round(rng.uniform(20, 800), 1),
                  "supercomputing": round(rng.uniform(50, 300), 1)}.get(
            centre_type, round(rng.uniform(1, 20), 1) if rng.random() < 0.3 else None)
        issued = dt.date(2014, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 9))
        years = rng.choice([5, 10])
        seq = sequence[city_code]
        initial = CentreState(
            centre_id=f"DC{city_code}-{seq:04d}",
            centre_name=f"{city_zh}{operator_zh}{seq}号数据中心",
            operator_name=operator_zh + rng.choice(["", "股份有限公司", "有限公司"]),
            operator_uscc=uscc,
            province_code=province,
            city=city_zh,
            cluster_code=(rng.choice(clusters_in[province])
                          if province in clusters_in and rng.random() < 0.6 else None),
            design_racks=racks,
            design_it_kw=int(racks * 2.5 * rng.uniform(0.8, 2.4)),
            design_pue=round(rng.uniform(1.15, 1.32) if province in WESTERN_HUB_PROVINCES
                             else rng.uniform(1.25, 1.55), 2),
            centre_type=centre_type,
            design_pflops=pflops,
            licence_no=f"B1-{issued.year}{rng.randrange(10000, 99999)}",
            licence_issued=issued,
            licence_expires=add_years(issued, years) - dt.timedelta(days=1),
            commissioned=None,
            status="operating",
        )
        centre = Centre(city_en=city_en)
        centre.states = _lifecycle(rng, initial, vintages)
        centres.append(centre)
    return centres


def _lifecycle(rng: random.Random, initial: CentreState, vintages: list[dt.date]
               ) -> list[CentreState | None]:
    """Appearance, construction → operating, suspensions, closures, expansions."""
    quarters = len(vintages)
    appear = 0 if quarters == 1 or rng.random() < 0.8 else rng.randrange(1, quarters)
    if appear > 0:
        status = rng.choice(["construction", "construction", "operating"])
    else:
        status = rng.choices(["operating", "construction", "suspended"], [82, 15, 3])[0]
    state = replace(initial, status=status)
    if status != "construction":
        latest = min(vintages[appear], state.licence_issued + dt.timedelta(days=700))
        start = state.licence_issued + dt.timedelta(days=60)
        span = max((latest - start).days, 1)
        state = replace(state, commissioned=start + dt.timedelta(days=rng.randrange(span)))
    states: list[CentreState | None] = [None] * appear
    gone = False
    for q in range(appear, quarters):
        if gone:
            states.append(None)
            continue
        if q > appear:
            state = _next_quarter(rng, state, vintages[q - 1], vintages[q])
        states.append(state)
        gone = state.status in ("closed", "revoked")  # listed once more, then dropped
    return states


def _next_quarter(rng: random.Random, state: CentreState, previous: dt.date,
                  vintage: dt.date) -> CentreState:
    roll = rng.random()
    if state.status == "construction" and roll < 0.4:
        day = previous + dt.timedelta(days=rng.randrange(1, (vintage - previous).days + 1))
        return replace(state, status="operating", commissioned=day)
    if state.status == "operating":
        if roll < 0.02:
            return replace(state, status="suspended")
        if roll < 0.03:
            return replace(state, status=rng.choice(["closed", "revoked"]))
        if roll < 0.08:  # an expansion: more racks, same load per rack
            extra = max(10, state.design_racks // 5 // 10 * 10)
            per_rack = state.design_it_kw / state.design_racks
            racks = state.design_racks + extra
            return replace(state, design_racks=racks, design_it_kw=int(racks * per_rack))
    if state.status == "suspended" and roll < 0.3:
        return replace(state, status="operating")
    return state
