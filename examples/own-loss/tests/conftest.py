# Nothing is needed here: installing loss-conformance registers its pytest plugin (-p no:conformance turns it off).
# An adapter that is not an installed entry point could be added to `pytest --conformance` from here:
#
# def pytest_conformance_adapters(config):
#     return {"own-loss-dev": "own_loss.conformance_adapter:OwnLossAdapter"}
