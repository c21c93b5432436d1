"""Value types and errors shared by the media pipeline modules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from media_worker.reasons import REJECTION_PARAMS


class MediaError(Exception):
    """ffmpeg failed for reasons not attributable to the file (timeout, crash, missing binary); retryable."""


class Rejected(Exception):
    """The file itself is unacceptable; deterministic, so the job must not retry it.

    Carries a code and its parameters (media_worker.reasons); the web app words them for people. A file that breaks
    several rules at once carries every one of them in `rejections` (`Rejected.combine`); `code` and `params` are then
    those of the first.
    """

    def __init__(self, code: str, **params: object) -> None:
        expected = REJECTION_PARAMS.get(code)
        if expected is None:
            raise ValueError(f"unknown rejection code {code!r}")
        if set(params) != expected:
            raise ValueError(f"rejection {code!r} takes {sorted(expected)}, not {sorted(params)}")
        self.code = code
        self.params: dict[str, object] = dict(params)
        self.rejections: list[tuple[str, dict[str, object]]] = [(code, self.params)]
        super().__init__(_describe(self.rejections))

    @classmethod
    def combine(cls, rejections: list[Rejected]) -> Rejected:
        """One Rejected listing every broken rule of `rejections` (in order, without repeats)."""
        if not rejections:
            raise ValueError("nothing to combine")
        first = cls(rejections[0].code, **rejections[0].params)
        seen = {first.code}
        for other in rejections[1:]:
            for code, params in other.rejections:
                if code not in seen:
                    seen.add(code)
                    first.rejections.append((code, dict(params)))
        first.args = (_describe(first.rejections),)
        return first

    def __reduce__(self) -> tuple[object, tuple[list[tuple[str, dict[str, object]]]]]:
        # RQ pickles exceptions; the default would call __init__ with the message as the code.
        return _rebuild_rejected, (self.rejections,)


def _describe(rejections: list[tuple[str, dict[str, object]]]) -> str:
    parts = []
    for code, params in rejections:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        parts.append(f"{code} ({detail})" if detail else code)
    return "; ".join(parts)


def _rebuild_rejected(rejections: list[tuple[str, dict[str, object]]]) -> Rejected:
    """Unpickle helper for Rejected."""
    return Rejected.combine([Rejected(code, **params) for code, params in rejections])


@dataclass(frozen=True)
class ClipRules:
    """A contest's limits; None means unconstrained."""

    min_duration_s: float | None = None
    max_duration_s: float | None = None
    # Applies to the short side, so a portrait 1080x1920 phone clip passes a 720 rule.
    min_height: int | None = None


@dataclass(frozen=True)
class ProbeInfo:
    """What ffprobe told us about an input; width/height are display dims (SAR and rotation applied)."""

    format_name: str
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str | None
    rotation: int
    bit_rate: int | None
    size_bytes: int
    coded_width: int
    coded_height: int
    pix_fmt: str
    field_order: str
    video_index: int
    audio_index: int | None
    fps_rational: str
    variable_frame_rate: bool
    base_rate: str = ""
    color_transfer: str | None = None
    # What the quick path (pipeline_quick) needs to know about the streams; empty or None when ffprobe did not say.
    video_profile: str = ""
    video_level: int = 0
    video_bit_rate: int | None = None
    color_range: str | None = None
    color_primaries: str | None = None
    audio_profile: str | None = None
    audio_channels: int = 0
    audio_sample_rate: int = 0
    audio_bit_rate: int | None = None

    @property
    def interlaced(self) -> bool:
        """True when the stream declares field order; unknown or progressive means no deinterlacing."""
        return self.field_order in ("tt", "bb", "tb", "bt")

    @property
    def short_side(self) -> int:
        """The smaller display dimension (the rung ladder and min_height are defined on it)."""
        return min(self.width, self.height)


@dataclass(frozen=True)
class Rung:
    """One planned output: name, exact even dimensions and rate caps."""

    name: str
    width: int
    height: int
    maxrate: int
    audio_bitrate: int


@dataclass(frozen=True)
class Output:
    """A picture file the pipeline wrote: its name (the rung's or the poster's), path and dimensions."""

    name: str
    path: Path
    width: int
    height: int


@dataclass(frozen=True)
class Rendition(Output):
    """One rung as written; bitrate is measured from the file; copied: the source's streams, remuxed (quick path)."""

    bitrate: int
    size_bytes: int
    copied: bool = False


@dataclass(frozen=True)
class Poster(Output):
    """A still JPEG of the clip."""


@dataclass(frozen=True)
class Storyboard:
    """A sprite of thumbnails plus the WebVTT that maps time ranges to sprite regions."""

    sprite_path: Path
    vtt_path: Path
    interval_s: float
    tile_w: int
    tile_h: int
    columns: int
    count: int = 0
