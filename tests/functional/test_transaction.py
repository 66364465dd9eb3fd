import pytest

from chalicelib.domain.errors import ConcurrentUpdate, DuplicateClientOrderId, TransactionTooLarge
from chalicelib.store.events import StreamHead
from chalicelib.store.transaction import MAX_ITEMS, Transaction


def head(name, seq):
    return StreamHead(f"STREAM#{name}", "HEAD", seq=seq)


def test_a_failed_condition_raises_the_error_its_item_named_and_writes_nothing():
    head("a", 1).save()
    tx = Transaction()
    tx.put(head("b", 1))
    tx.put(head("a", 2), StreamHead.pk.does_not_exist(), on_condition_failed=DuplicateClientOrderId())
    with pytest.raises(DuplicateClientOrderId):
        tx.commit()
    assert StreamHead.count("STREAM#b") == 0


def test_the_failure_mapping_receives_the_old_item():
    head("a", 7).save()
    seen = []
    tx = Transaction()
    tx.put(head("a", 8), StreamHead.pk.does_not_exist(),
           on_condition_failed=lambda old: seen.append(old) or ConcurrentUpdate())
    with pytest.raises(ConcurrentUpdate):
        tx.commit()
    assert seen[0]["seq"] == {"N": "7"}


def test_an_unnamed_condition_failure_is_a_retryable_concurrent_update():
    head("a", 1).save()
    tx = Transaction()
    tx.put(head("a", 2), StreamHead.seq == 5)
    with pytest.raises(ConcurrentUpdate) as raised:
        tx.commit()
    assert raised.value.retryable


def test_touching_one_item_twice_or_more_than_one_hundred_items_is_refused_before_sending():
    tx = Transaction()
    tx.put(head("a", 1))
    with pytest.raises(TransactionTooLarge):
        tx.put(head("a", 2))
    big = Transaction()
    for index in range(MAX_ITEMS):
        big.put(head(f"s{index}", 1))
    with pytest.raises(TransactionTooLarge):
        big.put(head("one-more", 1))
