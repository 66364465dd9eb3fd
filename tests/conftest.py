"""Test environment: fake AWS credentials and the test stage, set before any import."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

os.environ.update({
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "STAGE": "test",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("LOCAL_WS_ENDPOINT", None)
for name, value in {
    "BROKER_TABLE": "broker-main", "MATCHING_QUEUE": "broker-matching.fifo",
    "MATCHING_DLQ": "broker-matching-dlq.fifo", "CUSTODY_QUEUE": "broker-custody.fifo",
    "CUSTODY_DLQ": "broker-custody-dlq.fifo", "UPLOADS_BUCKET": "broker-uploads-local",
    "WALLET_KMS_KEY": "alias/broker-wallet",
}.items():
    os.environ.setdefault(name, value)
