# embedps image: the four binaries on Debian 12 with only their runtime
# libraries. Build from the repository root:
#   docker build -t embedps:latest .
# The stack in launch/docker/docker-compose.yml uses this image.

# Stage 1: the same packages as a developer machine (scripts/setup.sh,
# build packages only), then a release build of the binaries.
FROM debian:12 AS build
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh --build-only && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j"$(nproc)" --target embedps embedps-scheduler embedps-server embedps-worker

# Stage 2: runtime libraries and the binaries, run as an unprivileged user.
FROM debian:12 AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libzmq5 libcapnp-0.9.2 libgflags2.2 libgoogle-glog0v6 libstdc++6 zlib1g libdnnl2 libgomp1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/embedps /build/bin/embedps-scheduler /build/bin/embedps-server /build/bin/embedps-worker /usr/local/bin/
# /data is where the compose stack keeps data and the model; a named volume
# mounted there starts with this owner.
RUN useradd --system --uid 10001 --home-dir /data --create-home embedps
USER embedps
WORKDIR /data
CMD ["embedps", "--help"]
