import signal

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.workers"]


def pytest_configure(config):
    # A suite started as a background job of a non-interactive shell (`pytest &`, nohup) inherits SIGINT ignored,
    # and every process it starts would too (an ignored signal survives exec): the Ctrl-C tests could then never
    # interrupt anything. Give SIGINT back its default so they test what a user's Ctrl-C does.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
