"""`./dev local`: the demo's local stack (MiniStack, the ECR emulator, the provider deployed by
sam) kept running in the background, for deploying your own templates against it.

state.py is where a running stack is written down (.local-stack/) and how a dead one is told
apart; supervisor.py is the detached process that starts it, owns its processes and stops them;
cli.py is the command (start, env, deploy, delete, stop).
"""
