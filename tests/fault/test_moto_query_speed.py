"""The query speed-up returns exactly what moto's own query returns."""
import random

import boto3

from tests.fault import moto_query_speed


def _queries(client):
    answers = []
    for pk in ("P#1", "P#2", "P#9"):
        for forward in (True, False):
            answers.append(client.query(TableName="broker-main", KeyConditionExpression="pk = :p",
                                        ExpressionAttributeValues={":p": {"S": pk}}, ScanIndexForward=forward,
                                        Limit=7)["Items"])
        answers.append(client.query(TableName="broker-main", KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                                    ExpressionAttributeValues={":p": {"S": pk}, ":a": {"S": "005"}, ":b": {"S": "030"}},
                                    ConsistentRead=True)["Items"])
    for g in ("G#a", "G#b"):
        answers.append(client.query(TableName="broker-main", IndexName="gsi1",
                                    KeyConditionExpression="gsi1pk = :g AND gsi1sk > :s",
                                    ExpressionAttributeValues={":g": {"S": g}, ":s": {"S": "010"}},
                                    ScanIndexForward=False)["Items"])
    return answers


def test_queries_answer_the_same_with_and_without_the_speed_up():
    client = boto3.client("dynamodb", region_name="us-east-1")
    rng = random.Random(3)
    for n in range(200):
        item = {"pk": {"S": f"P#{rng.randint(1, 3)}"}, "sk": {"S": f"{n:03d}"}, "v": {"N": str(rng.randint(0, 9))}}
        if rng.random() < 0.6:
            item.update(gsi1pk={"S": rng.choice(["G#a", "G#b"])}, gsi1sk={"S": f"{rng.randint(0, 99):03d}"})
        client.put_item(TableName="broker-main", Item=item)
    fast = _queries(client)
    moto_query_speed.remove()
    try:
        slow = _queries(client)
    finally:
        moto_query_speed.apply()
    assert fast == slow
    assert sum(len(a) for a in fast) > 100
