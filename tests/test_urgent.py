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
        ("执法大队接李俊镇群众电话报告", "信息来源"),
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


# --- a deferral does not supply an element ----------------------------------------------

FIRE_FIRST_REPORT = """【紧急】黄河生态林场关于四分场发生林下地表火的报告
今天（5月26日）10时40分，黄河生态林场护林员巡查时发现，林场四分场7林班（望洪镇境内黄河东岸）
发生林下地表火。经初步了解，起火原因为附近村民焚烧田埂杂草引发，暂无人员伤亡。火情发生后，
林场场长孙立军带领扑火队员18人于10时55分赶到现场扑救，11时30分明火已被扑灭，造成林下枯草
成片过火，初步估算过火面积约15亩。目前已安排6名队员看守火场，防止复燃。下一步将组织力量清理
余火，核实过火面积和林木受害情况后续报。报告人：苏静 13800138057"""

LANDSLIDE_FIRST_REPORT = """【紧急】执法大队关于李俊镇一砂石场边坡发生局部垮塌的报告
局办公室：今天（4月17日）9时20分，执法大队接李俊镇群众电话报告，李俊镇金星村宏达砂石场采坑东侧
边坡发生局部垮塌。执法大队队员于9时50分赶到现场，经初步了解，垮塌土方约300立方米，造成采坑东侧
便道中断，司机已自行撤离，暂无人员伤亡，财产损失正在核实。
垮塌原因初步判断为企业超挖形成高陡边坡，加之近日气温回升冻土融化所致，影响范围限于采坑东侧。
县自然资源局分管领导已赶赴现场指挥，目前险情已得到控制。
目前已责令企业立即停产，设置警戒线，疏散周边作业人员。
下一步将配合县应急管理局开展调查，督促企业排除隐患，有关情况将及时续报。
报告人：李明 13800138074"""


def test_a_burned_area_and_a_promise_to_report_the_damage_is_no_loss_figure() -> None:
    assert missing_elements(FIRE_FIRST_REPORT) == ["财产损失"]


def test_a_loss_still_being_verified_is_still_to_report() -> None:
    assert missing_elements(LANDSLIDE_FIRST_REPORT) == ["财产损失"]
    stated = LANDSLIDE_FIRST_REPORT.replace("财产损失正在核实", "直接经济损失约8万元")
    assert missing_elements(stated) == []


@pytest.mark.parametrize(
    ("text", "missing", "present"),
    [
        ("过火面积约15亩，具体损失待核实", {"财产损失"}, {"影响范围"}),
        ("过火面积约0.8亩", {"财产损失"}, {"影响范围"}),  # burned area is the extent
        ("无人员伤亡，财产损失约2万元", set(), {"伤亡人数", "财产损失"}),
        ("伤亡情况正在统计", {"伤亡人数"}, set()),
        ("伤亡情况正在统计中。", {"伤亡人数"}, set()),
        ("火情未造成人员伤亡，财产损失正在核实", {"财产损失"}, {"伤亡人数"}),
        ("伤亡和财产损失情况，目前正在进一步核实", {"伤亡人数", "财产损失"}, set()),
        ("直接经济损失约2万元，其他情况正在核实中", set(), {"财产损失"}),
        ("过火面积约15亩，待核实", set(), {"影响范围"}),  # a provisional figure is stated
        ("经初步核实，无人员伤亡", set(), {"伤亡人数"}),
        ("伤亡人数不详", {"伤亡人数"}, set()),
        ("具体伤亡人数尚不清楚", {"伤亡人数"}, set()),
        ("人员伤亡情况暂无法确定", {"伤亡人数"}, set()),
        ("受灾面积及损失情况另行报告", {"财产损失", "影响范围"}, set()),
        ("起火原因正在调查中", {"事件起因和性质"}, set()),
        ("起火原因待查", {"事件起因和性质"}, set()),
        ("经调查，起火原因系村民焚烧秸秆引发", set(), {"事件起因和性质"}),
        ("在调查中发现，系村民焚烧秸秆引发", set(), {"事件起因和性质"}),
        ("目前正在组织扑救，火势已得到初步控制", set(), {"已采取的处置措施", "事件发展趋势"}),
        ("引导群众正确认识野外用火的危害，无人员伤亡", set(), {"伤亡人数"}),
        ("无人员伤亡；损失情况尚未统计", {"财产损失"}, {"伤亡人数"}),
        ("无人员伤亡！财产损失待评估", {"财产损失"}, {"伤亡人数"}),
    ],
)
def test_deferring_clauses(text: str, missing: set[str], present: set[str]) -> None:
    found = set(missing_elements(text))
    assert missing <= found
    assert not present & found


def test_deferrals_apply_to_configured_rules_too() -> None:
    elements = (Element("伤亡情况", ("伤亡",)),)
    assert missing_elements("伤亡情况正在统计", elements) == ["伤亡情况"]
    assert missing_elements("无人员伤亡", elements) == []
