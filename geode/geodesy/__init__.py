"""Geodesy basics: coordinates (ECEF, geodetic, local NEU) and, in helmert.py, frame alignment."""
