"""What every part of smartcity shares: the error hierarchy, the settings loader and the package's data."""
