"""The smallest Python subnet: constant challenge, echoed answer, exact comparison. It does no
work, so bench_python_subnet uses it to measure the python host's own cost per call (crossing
into the interpreter, copying bytes in and out, taking the GIL)."""


def generate_challenge(config):
    return b"ping", b"ping"


def serve(config, request):
    return request


def score(config, expectation, response):
    return 1.0 if response == expectation else 0.0
