"""The benchmark behind ``make bench``: replay throughput, live latency and memory.

``python -m bench`` measures and writes ``bench/results.md``; ``bench/README.md`` says what is
measured and how, and logs the optimizations with their gains.
"""
