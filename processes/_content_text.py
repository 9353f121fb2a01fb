"""Phrasebook for the content drafts: one voice per tone family, shared sentence pools.

Pools are templates crossed with angles so a long draft can grow without repeating a
sentence; choices use a stable checksum, never ``hash()``, which varies per process.
"""

import re
import zlib
from dataclasses import dataclass

_ANGLES = (
    "for teams just getting started",
    "when budgets are tight",
    "at scale",
    "over the next quarter",
    "without adding headcount",
    "in day-to-day work",
    "when priorities compete",
    "with the tools you already have",
)
_INTRO_TEMPLATES = (
    "The goal is simple: make every step count {angle}.",
    "Most of the value comes from a few decisions made early, {angle}.",
    "What follows is a practical view of what works {angle}.",
    "The same principles hold {angle}, even if the details change.",
    "Results come from steady habits more than big launches, {angle}.",
    "It helps to be clear about what success looks like {angle}.",
)
_KEYWORD_TEMPLATES = (
    "Work on {kw} pays off {angle} when it has a clear owner and a simple measure of progress.",
    "A common mistake with {kw} {angle} is trying to change everything at once.",
    "Start small with {kw} {angle}, learn from the first results, then expand what works.",
    "Teams that treat {kw} as a habit rather than a project see steadier gains {angle}.",
    "Write down what {kw} should achieve {angle} before choosing any tools.",
    "Early wins with {kw} {angle} usually come from removing steps, not adding them.",
    "Review {kw} regularly {angle} so small problems never grow into big ones.",
    "Good decisions about {kw} {angle} rest on numbers everyone trusts.",
    "Share what you learn about {kw} {angle} so the next person starts further ahead.",
    "Keep {kw} visible {angle}: what gets reviewed gets improved.",
    "Pair {kw} with a simple checklist {angle} to keep quality consistent.",
    "Expect {kw} to take a few iterations {angle} before it settles.",
)
_NO_KEYWORD_THEMES = ("the basics", "first steps", "common pitfalls", "measuring success")


def _pick(options: tuple[str, ...], key: str) -> str:
    return options[zlib.crc32(key.encode()) % len(options)]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pool(templates: tuple[str, ...], key: str, keyword: str) -> list[str]:
    """Every template with every angle, interleaved so neighbours differ in both.

    Pair ``i`` is (template ``i % T``, angle ``(i + i // T) % A``); with ``T + 1`` coprime
    to ``A`` that visits each pair once. Rotating by the key makes sections start apart.
    """
    t, a = len(templates), len(_ANGLES)
    pairs = [(templates[i % t], _ANGLES[(i + i // t) % a]) for i in range(t * a)]
    shift = zlib.crc32(key.encode()) % len(pairs)
    pairs = pairs[shift:] + pairs[:shift]
    return [_sentence(template.format(kw=keyword, angle=angle)) for template, angle in pairs]


def _hashtag(keyword: str) -> str:
    return "#" + "".join(w[:1].upper() + w[1:] for w in re.findall(r"\w+", keyword))


@dataclass(frozen=True)
class Voice:
    name: str
    openers: tuple[str, ...]
    leads: tuple[str, ...]
    ctas: dict[str, str]
    shorts: tuple[str, ...]
    title_suffix: dict[str, str]

    def title(self, topic: str, channel: str) -> str:
        suffix = self.title_suffix.get(channel)
        return f"{topic}: {suffix}" if suffix else topic

    def opener(self, topic: str, audience: str) -> str:
        return _sentence(_pick(self.openers, topic).format(topic=topic, audience=audience))

    def keyword_lead(self, keyword: str, topic: str, audience: str) -> str:
        template = _pick(self.leads, keyword)
        return _sentence(template.format(kw=keyword, topic=topic, audience=audience))

    def call_to_action(self, topic: str, channel: str) -> str:
        return self.ctas[channel].format(topic=topic)

    def intro_pool(self, topic: str) -> list[str]:
        return _pool(_INTRO_TEMPLATES, topic, "")

    def keyword_pool(self, keyword: str) -> list[str]:
        return _pool(_KEYWORD_TEMPLATES, keyword, keyword)

    def short_pool(self) -> list[str]:
        return list(self.shorts)

    def layout(
        self, channel: str, keywords: list[str], headings: list[str], sections: list[list[str]]
    ) -> str:
        intro, *middle, closing = (" ".join(s) for s in sections)
        if channel == "social":
            tags = " ".join(_hashtag(k) for k in keywords[:5])
            return " ".join(p for p in (intro, *middle, closing, tags) if p)
        if channel == "email":
            bullets = "\n".join(f"- {p}" for p in middle)
            parts = ["Hi there,", intro, bullets, closing, "Best regards,\nThe team"]
            return "\n\n".join(p for p in parts if p)
        blocks = [intro]
        # Keyword headings are written as given ("iPhone", not "IPhone").
        shown = headings if keywords else [_sentence(h) for h in headings]
        blocks += [f"## {h}\n\n{p}" for h, p in zip(shown, middle, strict=True)]
        blocks.append(f"## Next steps\n\n{closing}")
        return "\n\n".join(blocks)


def sections_for(keywords: list[str], channel: str) -> list[str]:
    """What the middle sections are about: the keywords, or generic themes without them.

    A social post without keywords stays a single short thought, so it gets no themes.
    """
    if keywords or channel == "social":
        return keywords
    return list(_NO_KEYWORD_THEMES)


_CTA_DEFAULT = {
    "blog": "If {topic} is on your list this quarter, pick one idea above and try it this week.",
    "email": "Reply to this email and we will help you plan your next step on {topic}.",
    "social": "Read more and share your take.",
}

_VOICES: dict[str, Voice] = {
    "professional": Voice(
        name="professional",
        openers=(
            "This guide sets out how {audience} can approach {topic} with clear priorities.",
            "For {audience}, {topic} is a question of focus, measurement and follow-through.",
        ),
        leads=(
            "For {audience}, {kw} deserves deliberate attention.",
            "A structured approach to {kw} reduces risk and improves outcomes.",
        ),
        ctas={
            "blog": "To discuss how {topic} applies to your organisation, contact our team.",
            "email": "Reply to this message to schedule a short review of {topic} with us.",
            "social": "Contact us to learn more.",
        },
        shorts=("Plan carefully.", "Measure the results.", "Review progress often.",
                "Act on the evidence.", "Keep it simple.", "Document decisions."),
        title_suffix={"blog": "A Practical Guide", "email": "Key Considerations"},
    ),
    "friendly": Voice(
        name="friendly",
        openers=(
            "Let's talk about {topic}, and why it matters for {audience} like you.",
            "If you're one of the {audience} wondering about {topic}, you're in good company.",
        ),
        leads=(
            "Here's the thing about {kw}: it's easier than it looks.",
            "Let's make {kw} feel a little less daunting.",
        ),
        ctas={
            "blog": "Give one of these ideas on {topic} a go this week, and tell us how it went!",
            "email": "Just hit reply and tell us where you are with {topic}; we'd love to help.",
            "social": "Tell us what you think below!",
        },
        shorts=("You've got this.", "Small steps count.", "Keep it fun.",
                "Ask for help early.", "Celebrate the wins.", "Try it today."),
        title_suffix={"blog": "What You Need to Know", "email": "A Quick Hello"},
    ),
    "playful": Voice(
        name="playful",
        openers=(
            "Grab a coffee: {topic} is about to get a lot more fun for {audience}.",
            "Good news, {audience}: {topic} does not have to be a chore.",
        ),
        leads=(
            "Time to give {kw} the spotlight it deserves.",
            "Plot twist: {kw} is where the magic happens.",
        ),
        ctas={
            "blog": "Ready to play with {topic}? Pick a trick above and take it for a spin.",
            "email": "Hit reply with your wildest {topic} idea; we read every one.",
            "social": "Your move!",
        },
        shorts=("Go on, try it.", "No pressure.", "Have fun with it.",
                "Break things safely.", "Then do it again.", "High five."),
        title_suffix={"blog": "The Fun Way", "email": "Something Fun Inside"},
    ),
    "direct": Voice(
        name="direct",
        openers=(
            "{topic} is costing {audience} time and money; here is how to fix that.",
            "Here is what {audience} need to do about {topic}, and in what order.",
        ),
        leads=(
            "Fix {kw} first.",
            "Get {kw} right and the rest follows.",
        ),
        ctas={
            "blog": "Pick one action on {topic} from this list and start today.",
            "email": "Reply now to book a call about {topic}.",
            "social": "Start today.",
        },
        shorts=("Do it now.", "Cut the waste.", "Measure it.", "Ship it.",
                "Then repeat.", "No excuses."),
        title_suffix={"blog": "What to Do Now", "email": "Action Needed"},
    ),
    "inspiring": Voice(
        name="inspiring",
        openers=(
            "Imagine what {audience} could achieve if {topic} simply worked.",
            "Every great result in {topic} started with {audience} deciding to try.",
        ),
        leads=(
            "Ambition turns into results through {kw}.",
            "With {kw}, small steps add up to something remarkable.",
        ),
        ctas={
            "blog": "Take your first step on {topic} today, and build from there.",
            "email": "Reply and tell us your goal for {topic}; we will help you get there.",
            "social": "Start your journey today.",
        },
        shorts=("Dream big.", "Start small.", "Keep going.", "Progress beats perfection.",
                "You can do this.", "Own the result."),
        title_suffix={"blog": "Where to Begin", "email": "Your Next Step"},
    ),
    "neutral": Voice(
        name="neutral",
        openers=(
            "This piece looks at {topic} for {audience}.",
            "Here is an overview of {topic} for {audience}.",
        ),
        leads=(
            "Start with {kw}.",
            "Take a closer look at {kw}.",
        ),
        ctas=_CTA_DEFAULT,
        shorts=("Start small.", "Measure results.", "Adjust as needed.", "Keep it simple.",
                "Review often.", "Share what works."),
        title_suffix={"blog": "An Overview", "email": "An Update"},
    ),
}  # fmt: skip

# Tones are free text: map them onto the closest voice by the words they use.
_TONE_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("playful", re.compile(r"\b(playful|fun|funny|witty|humou?r\w*|cheeky|light-?hearted)\b")),
    ("friendly", re.compile(r"friendly|warm|casual|conversational|approachable|relaxed")),
    ("direct", re.compile(r"direct|urgent|bold|punchy|assertive|no-nonsense|concise")),
    ("inspiring", re.compile(r"inspir|motivat|optimis|uplifting|visionary|empower")),
    ("professional", re.compile(r"professional|formal|authoritative|expert|technical|b2b")),
)


def voice_for(tone: str | None) -> Voice:
    if tone:
        lowered = tone.lower()
        for name, pattern in _TONE_FAMILIES:
            if pattern.search(lowered):
                return _VOICES[name]
    return _VOICES["neutral"]
