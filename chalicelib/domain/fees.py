"""Trading fees: who pays what, in which asset, rounded how.

- A fee is taken from what the order receives: the buyer pays in base, the
  seller in quote. Locks therefore need no fee headroom.
- fee = received amount * rate, rounded DOWN to the fee asset's precision.
  Rounding down favours the user; the ledger still conserves because the amount
  debited from the receiver is exactly the amount credited to the fee account.
- Rates are per (org, symbol), falling back to per-symbol, then to a default.
  The maker's rate comes from the maker's org and the taker's from the taker's:
  orders of different orgs meet in one book.
- Negative rates (maker rebates) are not supported: a rebate would be paid in the
  asset the maker receives while the taker's fee arrives in the other asset, so
  the fee account could be asked for funds it does not hold. `FeeRates` refuses them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import NamedTuple

from chalicelib.domain.filters import SymbolRules
from chalicelib.domain.orders import Side

ZERO = Decimal(0)
ONE = Decimal(1)


class Role(str, Enum):
    MAKER = "MAKER"
    TAKER = "TAKER"


@dataclass(frozen=True, slots=True)
class FeeRates:
    maker: Decimal
    taker: Decimal

    def __post_init__(self) -> None:
        for rate in (self.maker, self.taker):
            if not ZERO <= rate < ONE:
                raise ValueError("fee rates must be in [0, 1); rebates are not supported")

    def for_role(self, role: Role) -> Decimal:
        return self.maker if role is Role.MAKER else self.taker


@dataclass(frozen=True, slots=True)
class Fee:
    asset: str
    amount: Decimal


@dataclass(frozen=True)
class FeeSchedule:
    """Fee rates by (org, symbol), then by symbol, then `default`."""

    default: FeeRates
    by_symbol: Mapping[str, FeeRates] = field(default_factory=dict)
    by_org_symbol: Mapping[tuple[str, str], FeeRates] = field(default_factory=dict)

    def rates_for(self, org_id: str, symbol: str) -> FeeRates:
        rates = self.by_org_symbol.get((org_id, symbol))
        if rates is None:
            rates = self.by_symbol.get(symbol, self.default)
        return rates


FREE = FeeSchedule(FeeRates(ZERO, ZERO))
# Enum members read through their class cost ~200 ns on CPython 3.11.
_MAKER = Role.MAKER
_BUY = Side.BUY


class FeeTerms(NamedTuple):
    """How one side of a fill is charged: `rate` of what it receives, rounded down to `precision`.

    A NamedTuple because the matcher builds one per order and role on its hot path.
    """

    asset: str
    rate: Decimal
    precision: Decimal
    on_base: bool  # a buyer pays out of the base it receives, a seller out of the quote

    def charge(self, quantity: Decimal, quote_quantity: Decimal) -> Decimal:
        if not self.rate:
            return ZERO
        # floor_to_step, inlined: this runs twice per fill.
        return ((quantity if self.on_base else quote_quantity) * self.rate // self.precision) * self.precision


def fee_terms(side: Side, role: Role, rates: FeeRates, rules: SymbolRules) -> FeeTerms:
    """The terms for every fill of one order in one role; the matcher computes them once per order."""
    rate = rates.maker if role is _MAKER else rates.taker
    if side is _BUY:
        return FeeTerms(rules.base_asset, rate, rules.base_precision, True)
    return FeeTerms(rules.quote_asset, rate, rules.quote_precision, False)


def fee_for(
    quantity: Decimal,
    quote_quantity: Decimal,
    side: Side,
    role: Role,
    rates: FeeRates,
    rules: SymbolRules,
) -> Fee:
    """The fee one side of a fill pays, from what that side receives."""
    terms = fee_terms(side, role, rates, rules)
    return Fee(terms.asset, terms.charge(quantity, quote_quantity))
