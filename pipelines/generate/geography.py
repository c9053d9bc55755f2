"""Where the generated centres are: cities with their GB/T 2260 codes, and province
weights and sizes shaped like the country (many centres in the eastern hubs; fewer,
larger and emptier ones in the western hubs)."""

from __future__ import annotations

# province -> [(6-digit city code, Chinese name, English name)]
CITIES: dict[str, list[tuple[str, str, str]]] = {
    "11": [("110100", "北京", "Beijing")],
    "12": [("120100", "天津", "Tianjin")],
    "13": [("130100", "石家庄", "Shijiazhuang"), ("130700", "张家口", "Zhangjiakou"),
           ("131000", "廊坊", "Langfang")],
    "14": [("140100", "太原", "Taiyuan"), ("140200", "大同", "Datong")],
    "15": [("150100", "呼和浩特", "Hohhot"), ("150200", "包头", "Baotou"),
           ("150600", "鄂尔多斯", "Ordos")],
    "21": [("210100", "沈阳", "Shenyang"), ("210200", "大连", "Dalian")],
    "22": [("220100", "长春", "Changchun")],
    "23": [("230100", "哈尔滨", "Harbin")],
    "31": [("310100", "上海", "Shanghai")],
    "32": [("320100", "南京", "Nanjing"), ("320500", "苏州", "Suzhou"),
           ("320200", "无锡", "Wuxi")],
    "33": [("330100", "杭州", "Hangzhou"), ("330400", "嘉兴", "Jiaxing"),
           ("330200", "宁波", "Ningbo")],
    "34": [("340100", "合肥", "Hefei"), ("340200", "芜湖", "Wuhu")],
    "35": [("350100", "福州", "Fuzhou"), ("350200", "厦门", "Xiamen")],
    "36": [("360100", "南昌", "Nanchang")],
    "37": [("370100", "济南", "Jinan"), ("370200", "青岛", "Qingdao")],
    "41": [("410100", "郑州", "Zhengzhou")],
    "42": [("420100", "武汉", "Wuhan")],
    "43": [("430100", "长沙", "Changsha")],
    "44": [("440100", "广州", "Guangzhou"), ("440300", "深圳", "Shenzhen"),
           ("440200", "韶关", "Shaoguan"), ("441900", "东莞", "Dongguan")],
    "45": [("450100", "南宁", "Nanning")],
    "46": [("460100", "海口", "Haikou")],
    "50": [("500100", "重庆", "Chongqing")],
    "51": [("510100", "成都", "Chengdu"), ("510700", "绵阳", "Mianyang"),
           ("511400", "眉山", "Meishan")],
    "52": [("520100", "贵阳", "Guiyang"), ("520400", "安顺", "Anshun")],
    "53": [("530100", "昆明", "Kunming")],
    "54": [("540100", "拉萨", "Lhasa")],
    "61": [("610100", "西安", "Xi'an")],
    "62": [("620100", "兰州", "Lanzhou"), ("621000", "庆阳", "Qingyang")],
    "63": [("630100", "西宁", "Xining")],
    "64": [("640100", "银川", "Yinchuan"), ("640500", "中卫", "Zhongwei")],
    "65": [("650100", "乌鲁木齐", "Urumqi"), ("650200", "克拉玛依", "Karamay")],
}

# Relative number of centres per province.
WEIGHTS: dict[str, float] = {
    "11": 7, "12": 3, "13": 8, "31": 8, "32": 9, "33": 8, "34": 4, "44": 10, "50": 4, "51": 5,
    "15": 4, "52": 4, "62": 2.5, "64": 2.5,
    "14": 1.5, "21": 1.5, "22": 0.8, "23": 1, "35": 2, "36": 1, "37": 3, "41": 2, "42": 2,
    "43": 1.5, "45": 1, "46": 0.7, "53": 1, "54": 0.3, "61": 1.5, "63": 0.5, "65": 1,
}

# Design racks per centre: (low, high). Western hub centres are large.
WESTERN_HUB_PROVINCES = frozenset({"15", "52", "62", "64"})
EASTERN_HUB_PROVINCES = frozenset({"11", "12", "13", "31", "32", "33", "34", "44", "50", "51"})
RACKS_EAST = (150, 3000)
RACKS_WEST = (1500, 12000)

OPERATORS: list[tuple[str, str]] = [
    ("中国电信", "China Telecom"), ("中国移动", "China Mobile"), ("中国联通", "China Unicom"),
    ("万国数据", "GDS"), ("世纪互联", "VNET"), ("秦淮数据", "Chindata"),
    ("润泽科技", "Range Intelligent"), ("阿里云", "Alibaba Cloud"), ("腾讯云", "Tencent Cloud"),
    ("华为云", "Huawei Cloud"), ("百度智能云", "Baidu AI Cloud"), ("光环新网", "Sinnet"),
    ("数据港", "AtHub"), ("奥飞数据", "Ofidc"), ("宝信软件", "Baosight"),
]
