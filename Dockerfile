# Multi-stage build: a static binary on a minimal non-root image, production mode by default.
# The compiled GOV.UK assets are committed under web/static and embedded, so no Node stage is needed.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
COPY web ./web
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/portal ./cmd/portal

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portal /portal
COPY config/portal.example.yaml config/requirements.yaml /etc/portal/
ENV PORTAL_ENV=production \
    PORTAL_ADDR=:8080
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/portal"]
