"""R5 urgent-report elements: which a report carries, by the built-in and configured rules."""

from __future__ import annotations

import pytest

from mailroom.config import parse_settings
from mailroom.errors import ConfigError
from mailroom.rules.urgent import DEFAULT_ELEMENTS, Element, elements_from, missing_elements

COMPLETE_REPORT = """【紧急】望洪林业站关于贺兰山东麓发生林地火情的报告
据护林员电话报告，2019年5月12日14时20分许，望洪镇金沙村北侧林区发生火情。
经初步查明，起因系村民焚烧田埂杂草引发，属一般森林火情。火情未造成人员伤亡，
过火面积约0.8亩，烧毁灌木及杂草，直接经济损失约0.3万元，影响范围限于林缘地带。
接报后，我站立即组织扑火队员12人赶赴现场扑救，局党总支书记、局长伍庭利赶到现场指挥，
15时05分明火已被扑灭，火势得到控制，目前态势稳定，无复燃迹象。
已采取措施：设置隔离带，安排专人看守火场，防止复燃。
下一步，我站将加强巡护，严格野外用火管理。
信息员：张伟  联系电话：13995112233"""


def test_a_complete_report_misses_nothing() -> None:
    assert missing_elements(COMPLETE_REPORT) == []


def test_a_report_as_a_forest_farm_writes_it() -> None:
    # the sample month's 黄河生态林场 report: only the leaders and the trend in other words
    text = ("今天（5月20日）14时05分，黄河生态林场护林员巡查时发现，林场三分场12林班（望洪镇境内"
            "黄河东岸）发生一起林下地表火。经初步了解，起火原因为附近村民焚烧田埂杂草引发，火场"
            "面积约15亩，主要烧毁林下枯草和部分幼树，暂无人员伤亡。火情发生后，林场场长孙立军"
            "带领扑火队员20余人于14时20分赶到现场，目前正在组织扑救，火势已得到初步控制。"
            "下一步将组织力量清理余火、看守火场，防止复燃。报告人：苏静 13800138057")
    assert missing_elements(text) == []


def test_a_bare_alarm_misses_almost_everything() -> None:
    missing = missing_elements("【紧急】望洪林业站发生火情，请速派人。")
    assert missing[:2] == ["信息来源", "事发时间"]
    assert {"事发地点", "伤亡人数", "信息员姓名", "联系电话"} <= set(missing)


def test_place_needs_a_place_word() -> None:
    assert "事发地点" in missing_elements("发生火情，请速派人。")
    assert "事发地点" not in missing_elements("金沙村发生火情。")


@pytest.mark.parametrize(
    ("text", "element"),
    [
        ("5月12日发生", "事发时间"),
        ("１４时２０分许", "事发时间"),  # full-width digits, as Chinese IMEs type them
        ("14:20左右", "事发时间"),
        ("今日凌晨", "事发时间"),
        ("无人员伤亡", "伤亡人数"),
        ("直接经济损失约2万元", "财产损失"),
        ("县自然资源局局长带队赶赴现场", "相关领导是否到位"),
        ("分管领导已到位", "相关领导是否到位"),
        ("下步将开展排查", "下一步工作措施"),
        ("联系人：李娜，0951-8011452", "信息员姓名"),
        ("联系人：李娜，0951-8011452", "联系电话"),
        ("电话：8011452", "联系电话"),
    ],
)
def test_each_element_is_recognised(text: str, element: str) -> None:
    assert element not in missing_elements(text)


def test_leader_word_alone_is_not_leaders_on_site() -> None:
    assert "相关领导是否到位" in missing_elements("学习领导讲话精神")


def test_missing_names_keep_rule_order() -> None:
    names = [e.name for e in DEFAULT_ELEMENTS]
    missing = missing_elements("无")
    assert missing == names


def test_configured_rules_replace_the_defaults() -> None:
    settings = parse_settings({"urgent": {"elements": [
        {"name": "伤亡情况", "keywords": ["伤亡", r"\d+人受伤"]},
        {"name": "现场照片", "keywords": ["照片", "图片"]},
    ]}})
    elements = elements_from(settings.urgent)
    assert elements == (Element("伤亡情况", ("伤亡", r"\d+人受伤")),
                        Element("现场照片", ("照片", "图片")))
    assert missing_elements("3人受伤，附现场图片", elements) == []
    assert missing_elements("无", elements) == ["伤亡情况", "现场照片"]


def test_default_rules_without_config() -> None:
    assert elements_from(parse_settings({}).urgent) == DEFAULT_ELEMENTS


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        ([{"name": "x", "keywords": ["("]}], "not a valid regular expression"),
        ([{"name": "x", "keywords": []}], "urgent.elements.0.keywords"),
        ([{"name": "", "keywords": ["a"]}], "urgent.elements.0.name"),
        ([{"name": "x", "words": ["a"]}], "urgent.elements.0.words"),
    ],
)
def test_bad_element_rules_are_config_errors(elements: list[dict[str, object]],
                                             expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_settings({"urgent": {"elements": elements}})
