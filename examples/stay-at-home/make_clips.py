"""Make the example's sample clips (real espeak-ng speech, phone and browser formats).

    python examples/stay-at-home/make_clips.py                 # clips/ and logo.png here
    python examples/stay-at-home/make_clips.py --count 17 --out DIR   # a 17-language set
                                                               # with its own campaign.yaml

The clips are synthetic speech over a test picture; they stand in for phone recordings of
community leaders. The formats vary the way real uploads do: MP4 and MOV (H.264, HEVC),
MediaRecorder WebM (VP8/Opus, no duration), VP9 and AV1 WebM, portrait clips stored sideways
with a rotation, 24-60 fps and variable frame rate, 8-48 kHz mono, stereo and 5.1 sound.
``--count`` above 17 repeats the languages with other speakers (for scaling benchmarks).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.fixtures.media import make_clip, mediarecorder_webm  # noqa: E402

SCRIPT: tuple[str, str, str] = ("Stay at home.", "Protect the NHS.", "Save lives.")


@dataclass(frozen=True)
class Voice:
    tag: str  # BCP 47
    espeak: str  # espeak-ng voice
    speaker: str
    role: str
    text: tuple[str, str, str]


VOICES: tuple[Voice, ...] = (
    Voice("ur", "ur", "Imran Qureshi", "Imam, Jamia Mosque",
          ("گھر پر رہیں۔", "این ایچ ایس کی حفاظت کریں۔", "جانیں بچائیں۔")),
    Voice("pl", "pl", "Anna Nowak", "Polish Community Centre",
          ("Zostań w domu.", "Chroń NHS.", "Ratuj życie.")),
    Voice("pa-Guru", "pa", "Harjit Kaur", "Guru Nanak Gurdwara",
          ("ਘਰ ਵਿੱਚ ਰਹੋ।", "ਐੱਨਐੱਚਐੱਸ ਦੀ ਰੱਖਿਆ ਕਰੋ।", "ਜਾਨਾਂ ਬਚਾਓ।")),
    Voice("bn", "bn", "Rahima Begum", "Bangladeshi Women's Association",
          ("বাড়িতে থাকুন।", "এনএইচএস-কে রক্ষা করুন।", "জীবন বাঁচান।")),
    Voice("ro", "ro", "Ioana Popescu", "Romanian Orthodox Parish",
          ("Stați acasă.", "Protejați NHS.", "Salvați vieți.")),
    Voice("lt", "lt", "Rūta Kazlauskienė", "Lithuanian Saturday School",
          ("Likite namuose.", "Saugokite NHS.", "Gelbėkite gyvybes.")),
    Voice("gu", "gu", "Bhavna Patel", "Shree Krishna Mandir",
          ("ઘરે રહો.", "એનએચએસનું રક્ષણ કરો.", "જીવ બચાવો.")),
    Voice("hi", "hi", "Rajesh Sharma", "Hindu Cultural Society",
          ("घर पर रहें।", "एनएचएस की रक्षा करें।", "जान बचाएँ।")),
    Voice("ta", "ta", "Kavitha Rajan", "Tamil Community Association",
          ("வீட்டிலேயே இருங்கள்.", "என்எச்எஸ்ஸைப் பாதுகாருங்கள்.", "உயிர்களைக் காப்பாற்றுங்கள்.")),
    Voice("ar", "ar", "Yusuf Haddad", "Arabic Community Forum",
          ("ابقوا في منازلكم.", "احموا خدمة الصحة الوطنية.", "أنقذوا الأرواح.")),
    Voice("fa", "fa", "Maryam Ahmadi", "Iranian Community Group",
          ("در خانه بمانید.", "از ان‌اچ‌اس محافظت کنید.", "جان‌ها را نجات دهید.")),
    Voice("zh-Hans", "cmn", "Li Wei", "Chinese Community Centre",
          ("请待在家里。", "保护国民保健署。", "拯救生命。")),
    Voice("tr", "tr", "Mehmet Yılmaz", "Turkish Cultural Centre",
          ("Evde kalın.", "NHS'i koruyun.", "Hayat kurtarın.")),
    Voice("pt", "pt", "Ana Ferreira", "Portuguese Speakers' Network",
          ("Fique em casa.", "Proteja o NHS.", "Salve vidas.")),
    Voice("uk", "uk", "Olena Kovalenko", "Ukrainian Community Club",
          ("Залишайтеся вдома.", "Бережіть NHS.", "Рятуйте життя.")),
    Voice("ne", "ne", "Suman Gurung", "Nepalese Community Society",
          ("घरमै बस्नुहोस्।", "एनएचएसको रक्षा गर्नुहोस्।", "जीवन बचाउनुहोस्।")),
    Voice("en-GB", "en-gb-x-gbcwmd", "Sarah Jones", "Walsall Council",
          SCRIPT),
)

# (file suffix, make_clip keyword arguments): the mix of devices and browsers.
FORMATS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("mp4", {"container": "mp4", "vcodec": "h264", "acodec": "aac"}),
    ("webm", {"mediarecorder": True}),
    ("mov", {"container": "mov", "vcodec": "hevc", "acodec": "aac", "portrait": True,
             "rotate": 90, "channels": 2}),
    ("mp4", {"container": "mp4", "vcodec": "h264", "acodec": "aac", "portrait": True,
             "fps": 60, "channels": 2, "audio_rate": 44100}),
    ("webm", {"container": "webm", "vcodec": "vp9", "acodec": "opus", "fps": 24,
              "channels": 6}),
    ("mp4", {"container": "mp4", "vcodec": "h264", "acodec": "aac", "vfr": True}),
    ("webm", {"container": "webm", "vcodec": "av1", "acodec": "opus", "channels": 2}),
    ("mp4", {"container": "mp4", "vcodec": "hevc", "acodec": "aac", "fps": 25,
             "audio_rate": 16000}),
    ("mov", {"container": "mov", "vcodec": "h264", "acodec": "pcm_s16le", "portrait": True,
             "rotate": 270, "fps": 30}),
)


def make_logo(out: Path, background: str = "#1d3557", accent: str = "#f1c40f") -> Path:
    """A simple round logo (a house under a roof line), transparent PNG."""
    from PIL import Image, ImageDraw

    size = 512
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((8, 8, size - 8, size - 8), fill=accent)
    draw.ellipse((40, 40, size - 40, size - 40), fill=background)
    draw.polygon([(256, 110), (400, 240), (112, 240)], fill="#ffffff")
    draw.rectangle((150, 240, 362, 400), fill="#ffffff")
    draw.rectangle((230, 300, 282, 400), fill=background)
    img.save(out)
    return out


def _one(voice: Voice, fmt: tuple[str, dict[str, Any]], out: Path, height: int) -> Path:
    _suffix, spec = fmt
    spec = dict(spec)
    width = height * 16 // 9 // 2 * 2
    text = " ".join(voice.text)
    if spec.pop("mediarecorder", False):
        return mediarecorder_webm(out, speech_text=text, voice=voice.espeak,
                                  size=(height * 4 // 3 // 2 * 2, height))
    size = (height, width) if spec.pop("portrait", False) else (width, height)
    return make_clip(out, size=size, speech_text=text, voice=voice.espeak, **spec)


def example_plan() -> list[tuple[Voice, tuple[str, dict[str, Any]], str]]:
    """The six clips of examples/stay-at-home/campaign.yaml, in its order."""
    by_tag = {v.tag: v for v in VOICES}
    return [
        (by_tag["ur"], FORMATS[0], "clips/ur.mp4"),
        (by_tag["pl"], FORMATS[1], "clips/pl.webm"),
        (by_tag["pa-Guru"], FORMATS[2], "clips/pa.mov"),
        (by_tag["bn"], FORMATS[3], "clips/bn.mp4"),
        (by_tag["ro"], FORMATS[4], "clips/ro.webm"),
        (by_tag["lt"], FORMATS[5], "clips/lt.mp4"),
    ]


def _yaml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_campaign(out_dir: Path, entries: list[tuple[Voice, str]]) -> Path:
    """A campaign.yaml for a generated set (each clip's text inline)."""
    lines = [
        f"title: Stay at Home ({len(entries)} voices)",
        "language: en",
        "script: [" + ", ".join(_yaml_str(s) for s in SCRIPT) + "]",
        'intro: {text: "Walsall for All", duration: 3, logo: logo.png}',
        'outro: {text: "walsall.gov.uk/coronavirus", duration: 3}',
        'brand: {background: "#1d3557", text: "#ffffff", accent: "#f1c40f"}',
        "formats: [landscape]",
        "clips:",
    ]
    for voice, rel in entries:
        lines += [
            f"  - file: {rel}",
            f"    language: {voice.tag}",
            f"    speaker: {_yaml_str(voice.speaker)}",
            f"    role: {_yaml_str(voice.role)}",
            "    text: [" + ", ".join(_yaml_str(s) for s in voice.text) + "]",
        ]
    path = out_dir / "campaign.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_set(count: int, out_dir: Path, *, height: int = 360, jobs: int = 2) -> Path:
    """``count`` clips over the 17 languages and the format mix, with a campaign.yaml."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "clips").mkdir(exist_ok=True)
    make_logo(out_dir / "logo.png")
    plan: list[tuple[Voice, tuple[str, dict[str, Any]], str]] = []
    for i in range(count):
        voice = VOICES[i % len(VOICES)]
        fmt = FORMATS[i % len(FORMATS)]
        round_ = i // len(VOICES)
        if round_:
            voice = Voice(voice.tag, voice.espeak, f"{voice.speaker} ({round_ + 1})", voice.role,
                          voice.text)
        plan.append((voice, fmt, f"clips/{i + 1:02d}-{voice.tag}.{fmt[0]}"))
    _render(plan, out_dir, height, jobs)
    return write_campaign(out_dir, [(v, rel) for v, _, rel in plan])


def _render(plan: list[tuple[Voice, tuple[str, dict[str, Any]], str]], out_dir: Path,
            height: int, jobs: int) -> None:
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_one, v, fmt, out_dir / rel, height) for v, fmt, rel in plan]
        for (_, _, rel), future in zip(plan, futures, strict=True):
            future.result()
            print(f"made {out_dir / rel}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=None,
                        help="make a set of this many clips (17 languages, repeated beyond 17)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for --count (default: ./chorus-set-N)")
    parser.add_argument("--height", type=int, default=360,
                        help="picture height of the clips (720 or 1080 for realistic benchmarks)")
    parser.add_argument("--jobs", type=int, default=2, help="clips made at once")
    args = parser.parse_args(argv)
    if args.count is None:
        make_logo(HERE / "logo.png")
        (HERE / "clips").mkdir(exist_ok=True)
        _render(example_plan(), HERE, args.height, args.jobs)
        print(f"ready: chorus compile {HERE / 'campaign.yaml'} -o out/stay-at-home")
        return 0
    if args.count < 1:
        parser.error("--count must be at least 1")
    out = args.out or Path(f"chorus-set-{args.count}")
    campaign = make_set(args.count, out, height=args.height, jobs=args.jobs)
    print(f"ready: chorus compile {campaign} -o {out / 'out'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
