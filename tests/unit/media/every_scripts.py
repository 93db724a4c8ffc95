"""One caption line per script, each with what real council messages hold besides letters.

Every text has a full stop, a comma, a question mark, a phone number (0121-555-0123), a date
(12/03/2021) and a Latin acronym (NHS, GP, COVID-19), in ASCII, as people type them: the
characters that many Noto script fonts lack (Noto Sans Hebrew, Georgian, Armenian, Ethiopic
and Thai have no full stop or digits; Noto Naskh Arabic has no ASCII question mark).

Shared by the caption tests and the 20-script compile test.
"""

from __future__ import annotations

from typing import NamedTuple


class ScriptSample(NamedTuple):
    language: str
    script: str  # ISO 15924
    pack: str  # Tesseract language pack (Debian: tesseract-ocr-<pack with - for _>)
    text: str
    words: str  # letters of the script only: for the shaping check
    shaped: bool  # does the script need shaping (joining, reordering, conjuncts)?
    min_ratio: float  # OCR similarity threshold (measured values, less a margin)
    #: Read with English too (the acronyms); Urdu's model reads Nastaliq worse with it.
    with_english: bool = True


SAMPLES = [
    ScriptSample("he", "Hebr", "heb",
                 "הישארו בבית. התקשרו ל-NHS בטלפון 0121-555-0123, עד 12/03/2021?",
                 "הישארו בבית", True, 0.74),
    ScriptSample("ar", "Arab", "ara",
                 "ابقوا في المنزل. اتصلوا بـ NHS على 0121-555-0123, حتى 12/03/2021?",
                 "ابقوا في المنزل", True, 0.85),
    ScriptSample("ur", "Arab", "urd",
                 "گھر پر رہیں. NHS کو 0121-555-0123 پر فون کریں, 12/03/2021 تک?",
                 "گھر پر رہیں", True, 0.73, with_english=False),
    ScriptSample("hi", "Deva", "hin",
                 "घर पर रहें. GP से 0121-555-0123 पर संपर्क करें, 12/03/2021 तक?",
                 "संपर्क करें", True, 0.82),
    ScriptSample("bn", "Beng", "ben",
                 "বাড়িতে থাকুন. NHS কে 0121-555-0123 নম্বরে ফোন করুন, 12/03/2021 পর্যন্ত?",
                 "বাড়িতে থাকুন", True, 0.85),
    ScriptSample("pa", "Guru", "pan",
                 "ਘਰ ਰਹੋ. NHS ਨੂੰ 0121-555-0123 ਤੇ ਫ਼ੋਨ ਕਰੋ, 12/03/2021 ਤੱਕ?",
                 "ਘਰ ਰਹੋ ਫ਼ੋਨ ਕਰੋ", True, 0.85),
    ScriptSample("gu", "Gujr", "guj",
                 "ઘરે રહો. NHS ને 0121-555-0123 પર ફોન કરો, 12/03/2021 સુધી?",
                 "ઘરે રહો ફોન કરો", True, 0.85),
    ScriptSample("ta", "Taml", "tam",
                 "வீட்டிலேயே இருங்கள். GP ஐ 0121-555-0123 இல் அழையுங்கள், 12/03/2021 வரை?",
                 "வீட்டிலேயே இருங்கள்", True, 0.85),
    ScriptSample("te", "Telu", "tel",
                 "ఇంట్లోనే ఉండండి. NHS కు 0121-555-0123 కు ఫోన్ చేయండి, 12/03/2021 వరకు?",
                 "ఇంట్లోనే ఉండండి", True, 0.85),
    ScriptSample("kn", "Knda", "kan",
                 "ಮನೆಯಲ್ಲೇ ಇರಿ. NHS ಗೆ 0121-555-0123 ಗೆ ಕರೆ ಮಾಡಿ, 12/03/2021 ವರೆಗೆ?",
                 "ಮನೆಯಲ್ಲೇ ಇರಿ", True, 0.85),
    ScriptSample("ml", "Mlym", "mal",
                 "വീട്ടിൽ തന്നെ ഇരിക്കുക. NHS നെ 0121-555-0123 ൽ വിളിക്കുക, 12/03/2021 വരെ?",
                 "വീട്ടിൽ തന്നെ ഇരിക്കുക", True, 0.85),
    ScriptSample("si", "Sinh", "sin",
                 "නිවසේ රැඳී සිටින්න. NHS අමතන්න 0121-555-0123, 12/03/2021 දක්වා?",
                 "නිවසේ රැඳී සිටින්න", True, 0.85),
    ScriptSample("th", "Thai", "tha",
                 "อยู่บ้าน. โทร NHS 0121-555-0123, ถึง 12/03/2021?",
                 "อยู่บ้าน", True, 0.85),
    ScriptSample("am", "Ethi", "amh",
                 "ቤት ይቆዩ. NHS ን በ 0121-555-0123 ይደውሉ, እስከ 12/03/2021?",
                 "ቤት ይቆዩ", False, 0.85),
    ScriptSample("ka", "Geor", "kat",
                 "დარჩით სახლში. დარეკეთ NHS 0121-555-0123, 12/03/2021-მდე?",
                 "დარჩით სახლში", False, 0.85),
    ScriptSample("hy", "Armn", "hye",
                 "Մնացեք տանը. Զանգահարեք NHS 0121-555-0123, մինչև 12/03/2021?",
                 "Մնացեք տանը", False, 0.84),
    ScriptSample("km", "Khmr", "khm",
                 "នៅផ្ទះ. ទូរស័ព្ទទៅ NHS 0121-555-0123, ដល់ 12/03/2021?",
                 "នៅផ្ទះ ទូរស័ព្ទទៅ", True, 0.85),
    ScriptSample("my", "Mymr", "mya",
                 "အိမ်မှာနေပါ. NHS ကို 0121-555-0123 ခေါ်ပါ, 12/03/2021 အထိ?",
                 "အိမ်မှာနေပါ", True, 0.85),
    ScriptSample("zh", "Hani", "chi_sim",
                 "待在家里. 请拨打 NHS 0121-555-0123, 直到 12/03/2021?",
                 "待在家里", False, 0.85),
    ScriptSample("el", "Grek", "ell",
                 "Μείνετε σπίτι. Καλέστε το COVID-19 0121-555-0123, έως 12/03/2021?",
                 "Μείνετε σπίτι", False, 0.85),
    ScriptSample("ru", "Cyrl", "rus",
                 "Оставайтесь дома. Звоните в NHS 0121-555-0123, до 12/03/2021?",
                 "Оставайтесь дома", False, 0.85),
]

#: Scripts among SAMPLES that Debian has no Tesseract language pack for (none today: every
#: one of them has tesseract-ocr-<pack>); kept so a new sample without a pack is declared.
NO_TESSERACT_PACK: frozenset[str] = frozenset()
