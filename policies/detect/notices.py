"""Transactional notices that customers paste into a shop group.

"【京东】您的订单已出库", "【招商银行】您尾号1234的信用卡消费…", "【顺丰】快递员正在派件，电话…":
an app's or a bank's own notice starts with its name in 【】 and speaks of an order, a delivery,
an account or a booking. A customer's copy of an order's details ("订单号：…", "实付：…",
"物流：…", "客服电话：400-…") is one too: a line starting with an order number under its label,
a second field, and no whole mobile number (an app's copy masks the customer's).
Ads copy both, so a notice alone proves nothing; but in one, the phone number is the courier's,
the bank's or the shop's hotline, not an invitation, and the statistical scorer's judgement
counts half, since SMS ads and these notices share their words. A QQ or WeChat offer in a
notice is still an offer.
"""

from __future__ import annotations

import re

__all__ = ["NOTICE_WORDS", "notice_cue"]

NOTICE_WORDS = (
    "订单|出库|发货|揽收|签收|派件|派送|配送|快递员|快件|包裹|运单|取件|驿站|送达|骑手|退款|退货|"
    "尾号|账户|账单|余额|还款|消费|支出|收入|扣款|扣费|话费|电费|水费|"
    "航班|登机|值机|出票|车次|行程|预订|入住|验证码"
)
_NOTICE = re.compile(f"^【[^】\\n]{{1,12}}】[^\\n]{{0,60}}?({NOTICE_WORDS})")
_ORDER_NUMBER = re.compile(
    r"^[ \t]*(订单号|订单编号|运单号|快递单号)[ \t]*[：:][ \t]*[A-Za-z-]*[0-9][0-9A-Za-z-]{5,}",
    re.MULTILINE,
)
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
"""A whole mobile number: an app's copy of an order masks the customer's (138****1234)."""
_ORDER_FIELD = re.compile(
    r"(?:商品|实付款?|合计|金额|物流|快递|收货人|收货地址|下单时间|付款时间|规格|数量)\s*[：:]"
)


def notice_cue(text: str) -> str | None:
    """The word that makes `text` read as a pasted notice, or None."""
    if text.startswith("【"):
        match = _NOTICE.match(text)
        return match.group(1) if match else None
    if "单号" not in text and "单编号" not in text:
        return None
    order = _ORDER_NUMBER.search(text)
    if order is None or _ORDER_FIELD.search(text) is None or _MOBILE.search(text):
        return None
    return order.group(1)
