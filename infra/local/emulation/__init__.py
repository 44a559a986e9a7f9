"""What moto does not emulate (or not as AWS does), one module per service.

- lambda_: Lambda functions run in-process (moto would need Docker);
- events: EventBridge rule matches delivered to Lambda and Step Functions targets;
- sns: SNS to Lambda asynchronously; two-way SMS replies published on the stack's topic;
- streams: DynamoDB stream records delivered as Lambda's poller delivers them;
- dynamodb: moto's DynamoDB requests one at a time (DynamoDB's atomicity);
- stepfunctions: scaled time, workflow variables, catchers, SendTaskFailure's cause;
- scheduler: the template's schedules fired on request, one-time ones on the scaled clock;
- ses: SendEmail's tags and configuration set kept, bounces and complaints published;
- connect: Amazon Connect tasks and contact events (not in moto at all);
- clients: the AWS requests the functions make, recorded by botocore hooks.

Each change to moto's or botocore's code goes through patching.patch, which registers it with
a fingerprint of what it replaced (tests/unit/test_local_patches.py checks them).
"""
