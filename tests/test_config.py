"""The operator config and `qunbot check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.config import load_config
from policies.yamlsource import SourceError

ROOT = Path(__file__).resolve().parents[1]


def run_command(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`qunbot ARGUMENTS` in this process: its exit status, stdout and stderr."""
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def run_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run_command(["check", str(path)], capsys)


def test_example_config_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_check(ROOT / "config.example.yaml", capsys)
    assert code == 0
    assert "OK" in out


def test_misspelt_key_wrong_type_and_unknown_preset_are_all_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "databse: ./q.db\n"
        "staff_chat: not-a-number\n"
        "groups:\n"
        "  - chat_id: -100123\n"
        "    policy: shop-xx\n"
    )
    code, _, err = run_check(config, capsys)
    assert code == 1
    lines = err.splitlines()
    assert f"{config}:1:1: databse: unknown key 'databse' (did you mean 'database'?)" in lines[0]
    assert lines[1].startswith(f"{config}:2:13: staff_chat: input should be a valid integer")
    assert lines[2].startswith(
        f"{config}:5:13: groups.0.policy: unknown policy or preset 'shop-xx'"
    )
    assert "3 problems found" in lines[3]


def test_token_in_the_file_is_refused_with_a_pointer_to_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("token: '123:abc'\n")
    with pytest.raises(SourceError) as caught:
        load_config(config)
    assert "QUNBOT_TOKEN" in str(caught.value)


def test_broken_policy_file_is_reported_with_its_own_position(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text("extends: default\nmoderation:\n  mood: x\n")
    config = tmp_path / "config.yaml"
    config.write_text("default_policy: shop\n")
    with pytest.raises(SourceError) as caught:
        load_config(config)
    assert str(caught.value).startswith(
        f"{tmp_path / 'policies' / 'shop.yaml'}:3:3: moderation.mood"
    )


def test_missing_config_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        load_config(tmp_path / "absent.yaml")
    assert "cannot read the config" in str(caught.value)


def test_paths_are_relative_to_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database: data/q.db\n")
    loaded = load_config(config)
    assert loaded.database_path == tmp_path / "data" / "q.db"
    assert loaded.config.policy_for(-1) == "default"


def test_a_network_can_share_a_policy(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "networks:\n"
        "  - name: shop\n"
        "    groups: [-1, -2]\n"
        "    policy: shop-zh\n"
        "groups:\n"
        "  - chat_id: -2\n"
        "    policy: default\n"
    )
    loaded = load_config(config)
    assert loaded.config.policy_for(-1) == "shop-zh"
    assert loaded.config.policy_for(-2) == "default"
    assert loaded.config.policy_for(-3) == "default"
    assert loaded.config.network_peers(-1) == (-2,)
    assert "shop-zh" in loaded.policies


def test_an_unknown_network_policy_is_reported_where_it_is_written(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("networks:\n  - name: shop\n    groups: [-1, -2]\n    policy: nope\n")
    with pytest.raises(SourceError) as caught:
        load_config(config)
    assert str(caught.value).startswith(f"{config}:4:13: networks.0.policy: unknown policy")


def test_the_proxy_setting_reaches_every_telegram_call(tmp_path: Path) -> None:
    from telegram.request import HTTPXRequest

    from bot.app import build_application

    config = tmp_path / "config.yaml"
    config.write_text("proxy: http://127.0.0.1:7890\n", encoding="utf-8")
    application = build_application(load_config(config), token="1:proxy")
    for request in (application.bot.request, application.updater.bot._request[0]):  # type: ignore[union-attr]
        assert isinstance(request, HTTPXRequest)
        assert str(request._client_kwargs["proxy"]) == "http://127.0.0.1:7890"


def test_a_socks_proxy_without_socksio_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "socksio" else real(name)
    )
    config = tmp_path / "config.yaml"
    config.write_text("proxy: socks5://127.0.0.1:1080\n", encoding="utf-8")
    code, _, err = run_check(config, capsys)
    assert code == 1
    assert "socksio" in err and "proxy" in err


def test_a_webhook_must_be_https(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("webhook: {url: http://bot.example.com/hook}\n", encoding="utf-8")
    code, _, err = run_check(config, capsys)
    assert code == 1
    assert "webhook.url" in err


def test_a_broken_policy_is_reported_once_with_every_group_using_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "snack.yaml").write_text(
        "extends: shop-zh\nmoderation:\n  modee: x\n"
    )
    (tmp_path / "policies" / "typo.yaml").write_text("extends: shopzh\n")
    config = tmp_path / "config.yaml"
    config.write_text(
        "default_policy: snack\ngroups:\n"
        "  - {chat_id: -1001, policy: snack}\n  - {chat_id: -1002, policy: snack}\n"
        "  - {chat_id: -1003, policy: typo}\n"
    )
    code, _, err = run_check(config, capsys)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 3 and "2 problems found" in lines[2]
    (modee,) = [line for line in lines if "modee" in line]
    assert "used by default_policy, group -1001, group -1002" in modee
    (typo,) = [line for line in lines if "shopzh" in line]
    assert "known policies and presets: default, shop-zh, snack, typo" in typo
    assert "used by group -1003" in typo


def test_yaml_syntax_errors_are_told_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("groups:\n  - {chat_id: -1001, policy: default\nstaff_chat: -1009\n")
    code, _, err = run_check(config, capsys)
    assert code == 1
    assert "YAML syntax error at line 3, column 11: a '{' is not closed with '}'" in err
    assert "(in the { ... } that starts at line 2, column 5)" in err


def test_a_missing_codes_file_of_a_pool_in_use_stops_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text(
        "extends: default\ngifts:\n  welcome_pool: welcome\n"
        "  pools:\n    welcome: {codes_file: coupons/welcome.txt}\n"
    )
    config = tmp_path / "config.yaml"
    config.write_text("default_policy: shop\ngroups: [{chat_id: -1001, policy: shop}]\n")
    code, _, err = run_check(config, capsys)
    assert code == 1
    assert "gift pool 'welcome': no codes file" in err and "1 problem found" in err


def test_a_config_saved_in_another_encoding_stops_check_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_bytes("# 我的店\ngroups: [{chat_id: -1001, policy: shop-zh}]\n".encode("gbk"))
    code, _, err = run_check(config, capsys)
    assert code == 1 and "Traceback" not in err
    assert "the config is not UTF-8 text: save it as UTF-8" in err


def test_a_missing_policies_directory_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("policies_dir: ./nodir\ngroups: [{chat_id: -1001, policy: myshop}]\n")
    code, _, err = run_check(config, capsys)
    assert code == 1 and "unknown policy or preset 'myshop'" in err
    assert f"(the policies directory {tmp_path / 'nodir'} does not exist)" in err


def test_a_last_key_typed_with_a_full_width_colon_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As the last key of its section it parses: the section becomes the text "mode：soft".
    (tmp_path / "policies").mkdir()
    policy = "extends: shop-zh\nmoderation:\n  mode：soft\n"
    (tmp_path / "policies" / "shop.yaml").write_text(policy)
    config = tmp_path / "config.yaml"
    config.write_text("policies_dir: policies\ngroups: [{chat_id: -1001, policy: shop}]\n")
    code, _, err = run_check(config, capsys)
    assert code == 1
    assert "shop.yaml:3:3: moderation: a key ends with a full-width colon '：'" in err, err


def test_an_empty_policy_file_says_how_to_start_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_text("# 我的店\n")
    config = tmp_path / "config.yaml"
    config.write_text("policies_dir: policies\ngroups: [{chat_id: -1001, policy: shop}]\n")
    code, _, err = run_check(config, capsys)
    assert code == 1 and "1 problem found" in err, err
    assert "the policy file is empty: start it with `extends: shop-zh`" in err


def test_a_policy_file_that_is_not_text_stops_check_with_the_file_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "shop.yaml").write_bytes(b"extends: shop-zh\n\xff\xfe\n")
    config = tmp_path / "config.yaml"
    config.write_text("policies_dir: policies\ngroups: [{chat_id: -1001, policy: shop}]\n")
    code, _, err = run_check(config, capsys)
    assert code == 1 and "Traceback" not in err
    assert f"cannot read the policy file {tmp_path / 'policies' / 'shop.yaml'}" in err
    assert "it is not UTF-8 text: save it as UTF-8" in err


@pytest.mark.parametrize(
    ("model_file", "expected"),
    [
        (None, "ad model 'mine.json' not found at"),
        ('{"format": "other"}', "not a qunbot-linear/1 model file"),
        ("complaints", "it judges complaints, not ads"),
    ],
)
def test_an_unreadable_ad_model_stops_check_with_the_reason(
    model_file: str | None, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "mine.yaml").write_text(
        "extends: shop-zh\nmoderation:\n  detectors:\n    classifier: {model: mine.json}\n"
    )
    if model_file == "complaints":
        model_file = (ROOT / "policies" / "models" / "complaints.json").read_text()
    if model_file is not None:
        (tmp_path / "mine.json").write_text(model_file)
    config = tmp_path / "config.yaml"
    config.write_text("policies_dir: policies\ngroups: [{chat_id: -1001, policy: mine}]\n")
    code, _, err = run_check(config, capsys)
    assert code == 1
    assert "policy 'mine': classifier.model:" in err and expected in err
    assert "qunbot train" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("some/file.yaml", "qunbot classify: no policy file some/file.yaml"),
        ("nosuch", "qunbot classify: unknown policy or preset 'nosuch'; available: default"),
    ],
)
def test_classify_with_a_bad_policy_says_so_in_one_line(
    policy: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["classify", "--policy", policy, "-"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and "Traceback" not in err


def test_classify_reads_a_policy_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "mine.yaml"
    policy.write_text("extends: shop-zh\nmoderation:\n  mode: soft\n")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("你好\n"))
    with pytest.raises(SystemExit) as exited:
        main(["classify", "--policy", str(policy), "-"])
    assert exited.value.code == 0
    assert '"spam": false' in capsys.readouterr().out


def test_a_chinese_config_defaults_to_the_chinese_shop_policy(tmp_path: Path) -> None:
    # Private chats with no group behind them and the staff chat use the default policy's
    # templates: with the English `default`, a Chinese shop was answered in English there.
    config = tmp_path / "config.yaml"
    config.write_text("language: zh\ngroups: [{chat_id: -1001, policy: shop-zh}]\n")
    assert load_config(config).config.default_policy == "shop-zh"
    config.write_text("language: zh\ndefault_policy: default\n")
    assert load_config(config).config.default_policy == "default"
    config.write_text("groups: [{chat_id: -1001, policy: shop-zh}]\n")
    assert load_config(config).config.default_policy == "default"


def test_the_example_config_switched_to_chinese_greets_strangers_in_chinese(
    tmp_path: Path,
) -> None:
    # An operator who copies the example and only sets `language: zh` must not have a
    # stranger's private chat answered by the English preset.
    example = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    assert "\nlanguage: en\n" in example
    config = tmp_path / "config.yaml"
    config.write_text(example.replace("\nlanguage: en\n", "\nlanguage: zh\n"), encoding="utf-8")
    assert load_config(config).config.default_policy == "shop-zh"
