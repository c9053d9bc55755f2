"""Reference facts (provinces with GB/T 2260 codes, hubs, clusters) and lookups by any
name a province might write: Chinese full or short name, English name, code."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import polars as pl

from pipelines.ingest.values import norm_key

# Common alternative spellings beyond the reference file's names.
_EXTRA_PROVINCE_NAMES = {
    "15": ("Nei Mongol", "Neimenggu", "Nei Menggu"),
    "45": ("Guangxi Zhuang",),
    "54": ("Xizang",),
    "64": ("Ningxia Hui",),
    "65": ("Xinjiang Uygur", "Xinjiang Uyghur"),
}
_ENGLISH_SUFFIXES = ("province", "municipality", "autonomousregion", "sar")


@dataclass(frozen=True)
class Reference:
    provinces: pl.DataFrame
    hubs: pl.DataFrame
    clusters: pl.DataFrame

    @classmethod
    def load(cls, root: Path) -> Reference:
        def read(name: str) -> pl.DataFrame:
            return pl.read_csv(root / name, infer_schema=False)

        return cls(read("provinces.csv"), read("hubs.csv"), read("clusters.csv"))

    @cached_property
    def province_codes(self) -> frozenset[str]:
        return frozenset(self.provinces["province_code"])

    @cached_property
    def province_by_key(self) -> dict[str, str]:
        lookup: dict[str, str] = {}
        for row in self.provinces.iter_rows(named=True):
            code = row["province_code"]
            names = (code, row["name_zh"], row["name_short_zh"], row["name_en"])
            for name in names + _EXTRA_PROVINCE_NAMES.get(code, ()):
                lookup[norm_key(name)] = code
        return lookup

    @cached_property
    def hub_of_province(self) -> dict[str, str]:
        return {
            province: row["hub_code"]
            for row in self.hubs.iter_rows(named=True)
            for province in row["provinces"].split(";")
        }

    @cached_property
    def hub_by_key(self) -> dict[str, str]:
        return {
            norm_key(name): row["hub_code"]
            for row in self.hubs.iter_rows(named=True)
            for name in (row["hub_code"], row["name_zh"], row["name_en"])
        }

    @cached_property
    def cluster_by_key(self) -> dict[str, str]:
        lookup: dict[str, str] = {}
        for row in self.clusters.iter_rows(named=True):
            code, zh, en = row["cluster_code"], row["name_zh"], row["name_en"]
            for name in (code, zh, zh.removesuffix("集群"), en, f"{en} Cluster"):
                lookup[norm_key(name)] = code
        return lookup

    @cached_property
    def cluster_places(self) -> dict[str, tuple[str, frozenset[str]]]:
        """cluster_code -> (hub_code, province codes it may sit in)."""
        return {
            row["cluster_code"]: (row["hub_code"], frozenset(row["province_code"].split(";")))
            for row in self.clusters.iter_rows(named=True)
        }

    def province_code(self, text: str) -> str | None:
        """2-digit code for a province as written, or None if not recognised."""
        raw = unicodedata.normalize("NFKC", text).strip()
        if re.fullmatch(r"\d+\.0+", raw):  # a code typed into a number cell
            raw = raw.split(".")[0]
        key = norm_key(raw)
        if key.isdigit() and len(key) == 6:
            key = key[:2]
        if key in self.province_by_key:
            return self.province_by_key[key]
        for suffix in _ENGLISH_SUFFIXES:
            if key.endswith(suffix) and key.removesuffix(suffix) in self.province_by_key:
                return self.province_by_key[key.removesuffix(suffix)]
        return None
