"""Writes `policies/samples/zh_notices_generated_ham.txt`: customer text that is not an ad.

Customers paste app, bank, carrier and booking notices into a shop's group, quote their own
order, phone and tracking numbers, and compare prices with other shops. These lines are full of
amounts, dates, long numbers and brand names, which is exactly what an ad model learns to fear,
so the models are trained on them as negatives. Every line comes from the templates below (the
project's own text), filled in from a fixed seed, so the file is the same on every run:

    .venv/bin/python -m bench.notice_samples > policies/samples/zh_notices_generated_ham.txt

`tests/test_notice_samples.py` fails when the committed file and this generator disagree.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable

SEED = 29
COUNT = 600

SHOPS = (
    "淘宝",
    "天猫",
    "京东",
    "拼多多",
    "唯品会",
    "苏宁易购",
    "当当",
    "盒马",
    "得物",
    "抖音商城",
)
CARRIERS = (
    "顺丰速运",
    "中通快递",
    "圆通速递",
    "韵达快递",
    "申通快递",
    "京东物流",
    "EMS",
    "德邦快递",
)
BANKS = (
    "工商银行",
    "建设银行",
    "农业银行",
    "中国银行",
    "招商银行",
    "交通银行",
    "中信银行",
    "光大银行",
    "兴业银行",
    "浦发银行",
    "民生银行",
    "邮储银行",
)
AIRLINES = ("国航", "东方航空", "南方航空", "海南航空", "厦门航空", "春秋航空", "吉祥航空")
HOTELS = ("全季", "如家酒店", "锦江之星", "汉庭", "希尔顿欢朋", "亚朵")
UTILITIES = ("国家电网", "燃气公司", "自来水公司")
PHONE_COMPANIES = ("中国移动", "中国联通", "中国电信")
GOODS = (
    "奶粉",
    "纸巾",
    "保温杯",
    "空气炸锅",
    "手机壳",
    "衬衫",
    "台灯",
    "充电宝",
    "猫粮",
    "行李箱",
)
CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆", "长沙")
PAYMENTS = ("微信", "支付宝", "银行卡")
TRACKING_PREFIXES = ("SF", "YT", "ZT", "JT", "JD", "")


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def amount(rng: random.Random) -> str:
    return f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}"


def day(rng: random.Random) -> str:
    return f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日"


def clock(rng: random.Random) -> str:
    return f"{rng.randint(6, 22)}:{rng.choice(('00', '15', '30', '45'))}"


def phone(rng: random.Random) -> str:
    return rng.choice(("13", "15", "17", "18", "19")) + digits(rng, 9)


def tracking(rng: random.Random) -> str:
    return rng.choice(TRACKING_PREFIXES) + digits(rng, 12)


def shipped(rng: random.Random) -> str:
    return f"【{rng.choice(SHOPS)}】您购买的{rng.choice(GOODS)}已发货，运单号{tracking(rng)}"


def left_warehouse(rng: random.Random) -> str:
    return f"【{rng.choice(SHOPS)}】您的订单{digits(rng, 12)}已出库，预计{day(rng)}送达"


def refunded(rng: random.Random) -> str:
    return f"【{rng.choice(SHOPS)}】您申请的退款{amount(rng)}元已退回原支付账户"


def login_code(rng: random.Random) -> str:
    return f"【{rng.choice(SHOPS)}】验证码{digits(rng, 6)}，用于登录，如非本人操作请忽略"


def locker(rng: random.Random) -> str:
    return f"【{rng.choice(CARRIERS)}】您的快递已放入快递柜，取件码{digits(rng, 8)}，请及时领取"


def courier(rng: random.Random) -> str:
    return f"【{rng.choice(CARRIERS)}】快递员正在派送您的包裹，派送员电话{phone(rng)}"


def transit(rng: random.Random) -> str:
    return f"【{rng.choice(CARRIERS)}】您的快件{tracking(rng)}已到达{rng.choice(CITIES)}转运中心"


def station(rng: random.Random) -> str:
    code = f"{rng.randint(1, 30)}-{rng.randint(1, 9)}-{digits(rng, 4)}"
    where = rng.choice(("小区东门", "学校北门", "超市旁"))
    return f"【菜鸟驿站】您的包裹已到{where}驿站，取件码{code}"


def card_spend(rng: random.Random) -> str:
    return (
        f"【{rng.choice(BANKS)}】您尾号{digits(rng, 4)}的信用卡{day(rng)}消费{amount(rng)}元，"
        f"当前可用额度{amount(rng)}元"
    )


def debit_spend(rng: random.Random) -> str:
    return (
        f"【{rng.choice(BANKS)}】您尾号{digits(rng, 4)}的储蓄卡{day(rng)}{clock(rng)}"
        f"消费人民币{amount(rng)}元，余额{amount(rng)}元"
    )


def transfer_in(rng: random.Random) -> str:
    return f"【{rng.choice(BANKS)}】您的账户{day(rng)}收到转账{amount(rng)}元，对方户名：张*"


def card_bill(rng: random.Random) -> str:
    return f"【{rng.choice(BANKS)}】您本期信用卡账单{amount(rng)}元，到期还款日{day(rng)}"


def direct_debit(rng: random.Random) -> str:
    account = digits(rng, 4)
    return f"【{rng.choice(BANKS)}】您尾号{account}账户于{day(rng)}代扣水电费{amount(rng)}元"


def utility_bill(rng: random.Random) -> str:
    return f"【{rng.choice(UTILITIES)}】您家本期费用{amount(rng)}元，请按时缴纳"


def phone_bill(rng: random.Random) -> str:
    return f"【{rng.choice(PHONE_COMPANIES)}】您本月话费{amount(rng)}元，已从账户扣除"


def train_ticket(rng: random.Random) -> str:
    return (
        f"【12306】订单E{digits(rng, 9)}，您已购{day(rng)}{rng.choice('GDK')}{digits(rng, 4)}次"
        f"{rng.randint(1, 16)}车{rng.randint(1, 20)}{rng.choice('ABCDF')}号，"
        f"{rng.choice(CITIES)}站{clock(rng)}开"
    )


def flight_gate(rng: random.Random) -> str:
    return (
        f"【{rng.choice(AIRLINES)}】您的航班登机口变更为{rng.choice('ABCD')}{rng.randint(1, 60)}，"
        "请留意广播"
    )


def flight_delay(rng: random.Random) -> str:
    flight = rng.choice(("CA", "MU", "CZ", "HU")) + digits(rng, 4)
    return (
        f"【{rng.choice(AIRLINES)}】尊敬的旅客，您乘坐的{flight}航班延误，预计起飞时间{clock(rng)}"
    )


def hotel_booked(rng: random.Random) -> str:
    return (
        f"【{rng.choice(HOTELS)}】您已成功预订{day(rng)}大床房，订单号{digits(rng, 10)}，"
        "入住请携带身份证"
    )


def ride(rng: random.Random) -> str:
    return f"【滴滴出行】您的行程已结束，本次车费{rng.randint(8, 120)}.{rng.randint(0, 9)}元"


def verification(rng: random.Random) -> str:
    return f"您的验证码是{digits(rng, 6)}，{rng.choice((5, 10, 15))}分钟内有效，请勿告诉他人"


def paid_by(rng: random.Random) -> str:
    return f"我用{rng.choice(PAYMENTS)}付的，交易单号{digits(rng, 16)}，麻烦查一下"


def charged_unpaid(rng: random.Random) -> str:
    return f"银行卡扣了{amount(rng)}元，订单还显示待付款"


def own_phone(rng: random.Random) -> str:
    return f"我的手机号是{phone(rng)}，快递到了打我电话"


def order_number(rng: random.Random) -> str:
    return f"订单号 {digits(rng, 15)}，麻烦帮我看下什么时候发货"


def stuck_parcel(rng: random.Random) -> str:
    return f"我的运单号是{tracking(rng)}，物流好几天没动了"


def price_rise(rng: random.Random) -> str:
    before = rng.randint(20, 300)
    return f"上次买{before}，这次怎么变成{before + rng.randint(5, 60)}了"


def cheaper_elsewhere(rng: random.Random) -> str:
    return f"同款在{rng.choice(SHOPS)}才{rng.randint(20, 500)}块，你们贵了{rng.randint(3, 80)}"


def bargain(rng: random.Random) -> str:
    return (
        f"{rng.choice(SHOPS)}上这个卖{rng.randint(20, 900)}，"
        f"你们这里卖{rng.randint(20, 900)}，能便宜点吗"
    )


def bought_brand(rng: random.Random) -> str:
    return f"我在{rng.choice(SHOPS)}买过这个牌子的{rng.choice(GOODS)}，质量不错"


def invoice(rng: random.Random) -> str:
    return f"发票抬头写公司名称，税号{digits(rng, 17)}{rng.choice(('X', 'Y', ''))}"


def new_address(rng: random.Random) -> str:
    return f"地址改成{rng.choice(CITIES)}市某区某路{rng.randint(1, 300)}号，电话还是原来的"


def addressee(rng: random.Random) -> str:
    return f"收件人李女士 {phone(rng)} {rng.choice(CITIES)}市某某路{rng.randint(1, 300)}号"


TEMPLATES: tuple[Callable[[random.Random], str], ...] = (
    shipped,
    left_warehouse,
    refunded,
    login_code,
    locker,
    courier,
    transit,
    station,
    card_spend,
    debit_spend,
    transfer_in,
    card_bill,
    direct_debit,
    utility_bill,
    phone_bill,
    train_ticket,
    flight_gate,
    flight_delay,
    hotel_booked,
    ride,
    verification,
    paid_by,
    charged_unpaid,
    own_phone,
    order_number,
    stuck_parcel,
    price_rise,
    cheaper_elsewhere,
    bargain,
    bought_brand,
    invoice,
    new_address,
    addressee,
)


def notice_lines(count: int = COUNT, seed: int = SEED) -> list[str]:
    """`count` distinct lines, each template used in turn."""
    rng = random.Random(seed)
    lines: list[str] = []
    seen: set[str] = set()
    while len(lines) < count:
        line = TEMPLATES[len(lines) % len(TEMPLATES)](rng)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


def main() -> None:
    sys.stdout.write("".join(f"{line}\n" for line in notice_lines()))


if __name__ == "__main__":
    main()
