"""Resolve Apache Kafka's broker and tools jars from Maven Central into a local cache, once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from smartcity.core.errors import BrokerError

KAFKA_VERSION = "4.4.0"
LOG4J2_VERSION = "2.25.5"  # what kafka-server-4.4.0 declares
SLF4J_VERSION = "1.7.36"  # Kafka 4.x is on SLF4J 1.x: the binding must be log4j-slf4j-impl
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
MIN_JAVA = 17

_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>smartcity.local</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>{slf4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>{log4j}</version></dependency>
  </dependencies>
</project>
"""


def cache_dir() -> Path:
    """``$SMARTCITY_CACHE``, default ``~/.cache/smartcity``."""
    env = os.environ.get("SMARTCITY_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "smartcity"


def java_executable() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise BrokerError(f"Java {MIN_JAVA}+ is required for the local Kafka broker but `java` is not on PATH "
                          "(install a JDK or set JAVA_HOME)")
    return found


def check_java() -> str:
    """Path of a Java >= 17, or a :class:`BrokerError` that says what is missing."""
    java = java_executable()
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BrokerError(f"cannot run {java} -version: {exc}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise BrokerError(f"cannot tell the Java version of {java}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_x"
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise BrokerError(f"Java {MIN_JAVA}+ is required for Kafka {KAFKA_VERSION}, found Java {major} at {java} "
                          "(set JAVA_HOME to a newer JDK)")
    return java


@dataclass(frozen=True)
class KafkaJars:
    version: str
    libs: Path

    @property
    def classpath(self) -> str:
        return f"{self.libs}{os.sep}*"


def jars_dir(version: str = KAFKA_VERSION) -> Path:
    return cache_dir() / "kafka" / version / "libs"


def _complete(libs: Path, version: str) -> bool:
    marker = libs / ".complete"
    return marker.exists() and (libs / f"kafka_2.13-{version}.jar").exists()


def provision(version: str = KAFKA_VERSION, *, quiet: bool = True) -> KafkaJars:
    """Resolve the broker and tools jars into the cache (no-op when already there)."""
    libs = jars_dir(version)
    if _complete(libs, version):
        return KafkaJars(version, libs)
    mvn = shutil.which("mvn")
    if not mvn:
        raise BrokerError(f"Maven (`mvn`) is required once to fetch the Kafka {version} jars into {libs.parent}; "
                          "install Maven or point SMARTCITY_KAFKA_BOOTSTRAP_SERVERS at an existing cluster")
    work = libs.parent
    work.mkdir(parents=True, exist_ok=True)
    pom = work / "pom.xml"
    pom.write_text(_POM.format(kafka=version, log4j=LOG4J2_VERSION, slf4j=SLF4J_VERSION))
    staging = work / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    log = work / "maven.log"
    cmd = [mvn, "-B", "-f", str(pom), f"{DEPENDENCY_PLUGIN}:copy-dependencies",
           "-DincludeScope=runtime", f"-DoutputDirectory={staging}"]
    if quiet:
        cmd.insert(2, "-q")
    with log.open("w") as fh:
        result = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        last = _last_error_line(log)
        raise BrokerError(f"resolving Kafka {version} jars with Maven failed ({last}); see {log}")
    _check_classpath(staging, version, log)
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    (libs / ".complete").write_text(version)
    return KafkaJars(version, libs)


def _last_error_line(log: Path) -> str:
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if "ERROR" in ln]
    return lines[0][:200] if lines else "exit status non-zero"


def _check_classpath(libs: Path, version: str, log: Path) -> None:
    names = {p.name for p in libs.glob("*.jar")}
    required = [f"kafka_2.13-{version}.jar", f"kafka-tools-{version}.jar", f"kafka-clients-{version}.jar",
                f"slf4j-api-{SLF4J_VERSION}.jar", f"log4j-slf4j-impl-{LOG4J2_VERSION}.jar"]
    missing = [r for r in required if r not in names]
    if missing:
        raise BrokerError(f"Maven resolved an incomplete Kafka classpath (missing {', '.join(missing)}); see {log}")
    if any(n.startswith("log4j-slf4j2-impl") for n in names):
        raise BrokerError("Kafka classpath has log4j-slf4j2-impl, which silences broker logging; "
                          f"remove {libs} and provision again")
