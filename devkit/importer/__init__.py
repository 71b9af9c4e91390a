"""`./dev import`: the pull-through cache rules an account already has, as a template (or CDK
Python code) that declares each as a Custom::PullThroughCacheRule with AdoptExisting "true".

ecr.py reads the rules (DescribePullThroughCacheRules, every page); rules.py turns each into
what the template declares (logical id, parameters for this account's secrets and roles);
template.py writes the CloudFormation template, cdk_app.py the CDK app; cli.py is the command.
"""
