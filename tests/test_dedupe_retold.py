"""R3: another unit's own write-up of the same event (the same facts in other sentences) is
a duplicate (首报: content basically the same counts once); the same template on the same
day elsewhere, or too few facts in common, is not. And a re-sent text whose correction
drops a date is still a corrected copy. Pure: normalize and verdict, no database."""

from __future__ import annotations

from mailroom.dedupe.verdict import Features, compare, retold_score, status_for
from test_dedupe_sentences import features, verdict

DRILL = ("望远镇开展冬季森林防火应急演练",
         "11月9日上午，望远镇联合望远林业站在黄河滩涂开展冬季森林防火应急演练，镇村干部、护林员和"
         "扑火队员共85人参加。\n演练模拟林下可燃物起火，扑火队员分3组开展火情侦察、隔离带开设和余火"
         "清理，全程用时40分钟，共出动消防车2辆、风力灭火机12台。\n通过演练，进一步检验了冬季森林"
         "防火应急预案的可操作性，提升了基层扑火队伍的实战能力。")
# the county's forestry section, which guided the drill, writes it up in its own words
DRILL_BY_SECTION = ("林草股指导望远镇开展冬季森林防火应急演练",
                    "11月9日上午，县自然资源局林业和草原股到黄河滩涂，指导望远镇和望远林业站开展冬季"
                    "森林防火应急演练，镇村干部、护林员和扑火队员共85人参加。\n演练模拟林下可燃物起火，"
                    "扑火队员分成3组，完成火情侦察、开设隔离带和清理余火等科目，用时40分钟，出动消防车"
                    "2辆、风力灭火机12台。\n林草股现场点评了演练情况，要求各林业站进一步完善应急预案，"
                    "提升基层扑火队伍实战能力。")
# the same drill the same morning in another town: the template's words, other facts
DRILL_ELSEWHERE = ("李俊镇开展冬季森林防火应急演练",
                   "11月9日上午，李俊镇联合李俊林业站在西干渠林带开展冬季森林防火应急演练，镇村干部、"
                   "护林员和扑火队员共60人参加。\n演练模拟林下可燃物起火，扑火队员分2组开展火情侦察、"
                   "隔离带开设和余火清理，全程用时35分钟，共出动消防车1辆、风力灭火机8台。\n通过演练，"
                   "进一步检验了冬季森林防火应急预案的可操作性，提升了基层扑火队伍的实战能力。")
# the section's own angle only, the drill in a sentence: the same facts, little of the words
DRILL_IN_BRIEF = ("林草股检查基层森林防火准备工作",
                  "11月9日，林业和草原股在望远镇黄河滩涂观摩了望远镇和望远林业站的冬季森林防火应急"
                  "演练（85人参加，3个扑火组，用时40分钟，消防车2辆、风力灭火机12台）。\n随后，股室"
                  "人员检查了望远林业站物资储备库，清点了防火服、二号工具和对讲机，查看了值班记录和"
                  "护林员巡护日志，对发现的两处台账不全问题当场督促整改。")


def test_another_units_write_up_of_the_same_event_is_a_duplicate() -> None:
    match = compare(features(*DRILL_BY_SECTION), features(*DRILL))
    assert match.retold and match.bonus == 0.0, match
    assert 90 <= match.score < 100
    assert verdict(features(*DRILL_BY_SECTION), features(*DRILL)) == "duplicate"


def test_the_same_template_the_same_day_in_another_town_stays_distinct() -> None:
    for first, second in ((DRILL, DRILL_ELSEWHERE), (DRILL_BY_SECTION, DRILL_ELSEWHERE)):
        match = compare(features(*second), features(*first))
        assert not match.retold, match
        assert verdict(features(*second), features(*first)) == "counted", match


def test_the_same_facts_in_little_of_the_same_wording_are_left_to_the_clerk() -> None:
    match = compare(features(*DRILL_IN_BRIEF), features(*DRILL))
    assert not match.retold, match
    assert verdict(features(*DRILL_IN_BRIEF), features(*DRILL)) != "duplicate", match


def test_a_few_numbers_in_common_are_not_the_same_event() -> None:
    # a date and "the first meeting": two meetings can share that much by chance
    new = Features("a", "x" * 80, "body", frozenset({"4", "9", "1"}))
    old = Features("b", "y" * 80, "body", frozenset({"4", "9", "1"}))
    assert retold_score(new, old, 80.0) is None
    # the same facts, but no month or day among them (a figure, a year)
    no_day = Features("a", "2019年完成1380户85宗", "body", frozenset({"2019", "1380", "85", "7"}))
    assert retold_score(no_day, no_day, 80.0) is None


REGISTRY = ("不动产登记中心化解一批历史遗留办证难题",
            "截至4月中旬，不动产登记中心已为1380户群众办理了不动产权证书，化解历史遗留问题项目"
            "23个。\n中心采取“容缺受理、分类处置”的办法，对资料不全的项目先行受理，边办边补。\n"
            "剩余项目将于年底前分批解决，让群众早日拿到“房本”。")


def test_a_correction_that_drops_a_date_is_still_a_corrected_copy() -> None:
    corrected = REGISTRY[1].replace("截至4月中旬", "截至目前").replace("1380户", "1386户")
    match = compare(features(REGISTRY[0], corrected), features(*REGISTRY))
    assert status_for(match.score, 90, 75, match.bonus) == "duplicate", match


def test_a_date_replaced_by_another_is_another_issue() -> None:
    other = REGISTRY[1].replace("截至4月中旬", "截至5月中旬").replace("1380户", "1386户")
    match = compare(features(REGISTRY[0], other), features(*REGISTRY))
    assert status_for(match.score, 90, 75, match.bonus) != "duplicate", match
