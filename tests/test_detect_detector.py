"""The detector as a whole: config, shipped samples, scan, score, evaluate, and robustness."""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from policies.detect import SHIPPED_SAMPLES, Detector, build_detector, train_from_samples
from policies.detect.config import ClassifierConfig, DetectorsConfig, sample_is_spam
from policies.detect.evaluate import evaluate
from policies.detect.samples import parse_sample_lines, unescape_line
from policies.facts import ForwardKind, MessageFacts

CONFIG = DetectorsConfig()


def shipped_lines() -> dict[str, list[str]]:
    package = resources.files("policies")
    return {
        name: (package / name).read_text(encoding="utf-8").splitlines()
        for name in CONFIG.classifier.samples
    }


MODEL = train_from_samples(shipped_lines(), CONFIG.classifier)
DETECTOR = build_detector(CONFIG, classifier=MODEL)


def facts(text: str = "", **extra: Any) -> MessageFacts:
    return MessageFacts(chat_id=-1001, message_id=1, user_id=7, date=0.0, text=text, **extra)


def test_an_empty_section_is_valid_and_extra_keys_are_refused() -> None:
    assert DetectorsConfig.model_validate({}).spam_threshold == 1.0
    assert DetectorsConfig.model_validate({"links": {}, "classifier": {}}).links.allow == []
    with pytest.raises(ValidationError):
        DetectorsConfig.model_validate({"link": {}})
    with pytest.raises(ValidationError):
        DetectorsConfig.model_validate({"classifier": {"threshold": 1.0}})
    with pytest.raises(ValidationError):
        ClassifierConfig(samples=["samples/notes.txt"])


def test_every_field_is_described() -> None:
    from pydantic import BaseModel

    def check(model: type[BaseModel]) -> None:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                check(annotation)

    check(DetectorsConfig)


def test_shipped_samples_are_labelled_and_readable() -> None:
    lines = shipped_lines()
    names = [*SHIPPED_SAMPLES["spam"], *SHIPPED_SAMPLES["ham"]]
    assert sorted(lines) == sorted(names)
    for name, content in lines.items():
        messages = parse_sample_lines(content)
        assert len(messages) >= 50, name
        assert sample_is_spam(name) == (name in SHIPPED_SAMPLES["spam"])
    assert MODEL.trained


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("a\\nb", "a\nb"),
        ("c:\\\\dir", "c:\\dir"),
        ("tab\\there", "tab\there"),
        ("odd\\x", "odd\\x"),
    ],
)
def test_sample_escapes(line: str, message: str) -> None:
    assert unescape_line(line) == message


def test_sample_lines_skip_blanks() -> None:
    assert parse_sample_lines(["one\n", "   \n", "two\\nlines\r\n"]) == ["one", "two\nlines"]


@pytest.mark.parametrize(
    "text",
    [
        "这个多少钱？",
        "请问这款有黑色的吗",
        "什么时候发货呀",
        "收到了，质量不错，下次还来",
        "价格¥99是包邮价吗",
        "订单号 202406151234567，帮我查一下物流",
        "支持微信支付吗",
        "when will my order ship?",
        "Thanks, I received the package today",
        "官网 myshop.com 上有说明书",
    ],
)
def test_normal_shop_chat_is_not_spam(text: str) -> None:
    detector = build_detector(
        DetectorsConfig.model_validate({"links": {"allow": ["myshop.com"]}}), classifier=MODEL
    )
    hits = detector.scan(facts(text))
    assert not detector.is_spam(hits), hits


@pytest.mark.parametrize(
    "text",
    [
        "兼职日结，手机就能做，加ＶＸ：ａｂｃ１２３",
        "帮我砍一刀吧，拼多多免费拿",
        "￥AbCd12EfGh￥ 复制这段描述打开手机淘宝",
        "加我 扣扣 一二三四五六七八 日赚三百",
        "进群领福利 t.me/+AbCdEf",
        "Earn $500 a day, DM me, guaranteed profit",
    ],
)
def test_obvious_ads_are_spam(text: str) -> None:
    hits = DETECTOR.scan(facts(text))
    assert DETECTOR.is_spam(hits), hits
    assert DETECTOR.score(hits) == pytest.approx(sum(hit.score for hit in hits))


def test_scan_reads_quotes_and_captions_and_kinds() -> None:
    hits = DETECTOR.scan(facts("看看", quote_text="加我vx: abc123", has_media=True))
    assert "contact.wechat" in {hit.rule for hit in hits}
    hits = DETECTOR.scan(facts("", forward_kind=ForwardKind.CHANNEL, forward_chat_id=-1009))
    assert [hit.rule for hit in hits] == ["kind.forward_channel"]


def test_checks_run_in_a_fixed_order_and_can_be_switched_off() -> None:
    assert [name for name, _ in DETECTOR.checks] == [
        "links",
        "contacts",
        "marketplace",
        "keywords",
        "kinds",
        "classifier",
    ]
    quiet = DetectorsConfig.model_validate(
        {
            "links": {"enabled": False},
            "contacts": {"enabled": False},
            "marketplace": {"enabled": False},
            "keywords": {"enabled": False},
            "kinds": {"enabled": False},
            "classifier": {"enabled": False},
        }
    )
    detector = build_detector(quiet, classifier=MODEL)
    assert detector.checks == ()
    assert detector.scan(facts("帮我砍一刀 vx abc123 t.me/+x")) == ()
    assert build_detector(CONFIG).checks[-1][0] == "kinds"


def test_evaluate_counts_and_rates() -> None:
    report = evaluate(DETECTOR, ["帮我砍一刀", "这个多少钱"], ["好的谢谢", "加我vx: abc123"])
    assert report["true_positives"] == 1
    assert report["false_negatives"] == 1
    assert report["false_positives"] == 1
    assert report["recall"] == 0.5
    assert report["false_positive_rate"] == 0.5
    assert report["precision"] == 0.5
    assert report["rules"]["market.pinduoduo"] == {"spam": 1, "ham": 0}
    assert report["false_positive_examples"][0]["text"] == "加我vx: abc123"
    assert evaluate(DETECTOR, [], [])["recall"] == 0.0


TRICKY = (
    "vVxXqQ微信扣企鹅群1234567890 .-_/@:：点點。·①⑴❶1️⃣ａｂ\u200b\ufeff𝐁рα¥€【】复制淘宝砍一刀tme"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(alphabet=st.sampled_from(TRICKY), max_size=300),
        st.text(alphabet=st.sampled_from(TRICKY), min_size=4096, max_size=4096),
    )
)
def test_scan_never_raises(text: str) -> None:
    hits = DETECTOR.scan(facts(text, quote_text=text[:50]))
    assert all(isinstance(hit.rule, str) and hit.reason for hit in hits)


HOSTILE = [
    "a." * 2048,
    "a-" * 2048,
    "a " * 2048,
    "1 " * 2048,
    "1." * 2048,
    "1" * 4096,
    "一 " * 2048,
    "一" * 4096,
    "@" + "a" * 4095,
    "@a" * 2048,
    "http://" + "a" * 4089,
    "https://" + "a." * 2044,
    "t . " * 1024,
    "p i n " * 682,
    "点 " * 2048,
    "a 点 " * 1365,
    "vx" + " " * 4094,
    "vx " + "a " * 2046,
    "微信:" + "a-" * 2046,
    "qq" + "1 " * 2047,
    "复制" + "x" * 4094,
    "拼多多" + "砍" * 4093,
    "¥" + "a" * 4095,
    "¥a" * 2048,
    "\u200b" * 4096,
    "①" * 4096,
    "1️⃣" * 1365,
    "ａ" * 4096,
    "рa" * 2048,
    "[.]" * 1365,
    "a[.]" * 1024,
    "a1" * 2048,
    "看我" * 2048,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda text: repr(text[:12]))
def test_hostile_input_is_scanned_quickly(text: str) -> None:
    started = time.perf_counter()
    DETECTOR.scan(facts(text, quote_text=text[:200]))
    assert time.perf_counter() - started < 0.5


def test_detector_is_a_frozen_value() -> None:
    assert isinstance(DETECTOR, Detector)
    with pytest.raises(AttributeError):
        DETECTOR.spam_threshold = 2.0  # type: ignore[misc]


def test_bot_commands_are_not_judged_by_the_scorer() -> None:
    from policies.detect import build_detector
    from policies.detect.classifier import train
    from policies.detect.config import DetectorsConfig
    from policies.facts import MessageFacts

    model = train(["/mode hard now", "加我微信领券"] * 20, ["hello there", "谢谢"] * 20)
    detector = build_detector(DetectorsConfig(), classifier=model)
    command = MessageFacts(chat_id=-1, message_id=1, user_id=2, date=0.0, text="/mode hard now")
    assert not [hit for hit in detector.scan(command) if hit.rule == "classifier.spam"]


def test_the_scorer_reads_a_message_without_the_shops_own_contacts() -> None:
    from policies.detect.classifier import train
    from policies.detect.config import ContactsConfig

    spam = ["客服微信 sunny_cs01 加我", "微信 sunny_cs01 领券", "加微信 sunny_cs01"] * 20
    model = train(spam, ["还没发货", "谢谢客服", "什么时候到"] * 20)
    text = "我加了客服微信 sunny_cs01 还没通过"
    message = MessageFacts(chat_id=-1, message_id=1, user_id=2, date=0.0, text=text)
    plain = build_detector(DetectorsConfig(), classifier=model)
    assert [hit for hit in plain.scan(message) if hit.rule == "classifier.spam"]
    config = DetectorsConfig(contacts=ContactsConfig(allow=["SUNNY_cs01"]))
    allowing = build_detector(config, classifier=model)
    assert not [hit for hit in allowing.scan(message) if hit.rule == "classifier.spam"]
