"""Streams (seed 000 "Create Stream Copies"): HLS/DASH copies of a video made by a stream provider.

``service`` validates and records requests, ``jobs`` drives a provider from a worker, ``events``
commits each status change with its webhook, ``outputs`` serves a local provider's files to edges.
"""
