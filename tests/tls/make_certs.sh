#!/bin/sh
# Generates the TLS test certificates into DIR (run by the test suite; nothing here is
# committed but this script). Everything is throwaway and valid only for the tests:
#   ca.pem / ca.key                    a test CA
#   server.pem / server.key            localhost + 127.0.0.1, signed by the CA
#   alt.pem / alt.key                  alt.test (the second SNI name), signed by the CA
#   rotated.pem / rotated.key          localhost again, a different key (rotation)
#   client.pem / client.key            a client certificate (CN=test-client), signed by the CA
#   expired.pem / expired.key          localhost, signed by the CA, expired in 2020
#   selfsigned.pem / selfsigned.key    localhost, self-signed (no CA)
#   other-ca.pem                       an unrelated CA (for "unknown issuer")
set -eu
dir=${1:?usage: make_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

ext() { # ext NAME SAN USAGE
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$3" "$2" > "$1.ext"
}

signed() { # signed NAME SUBJECT SAN USAGE
  key "$1"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
  ext "$1" "$3" "$4"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}

key ca
openssl req -x509 -new -key ca.key -subj "/CN=actnet test CA" -days 30 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out ca.pem 2>/dev/null

key other-ca
openssl req -x509 -new -key other-ca.key -subj "/CN=unrelated CA" -days 30 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out other-ca.pem 2>/dev/null

signed server "/CN=localhost/O=actnet tests" "DNS:localhost,IP:127.0.0.1" serverAuth
signed alt "/CN=alt.test/O=actnet tests" "DNS:alt.test" serverAuth
signed rotated "/CN=localhost/O=actnet tests rotated" "DNS:localhost,IP:127.0.0.1" serverAuth
signed client "/CN=test-client/O=actnet tests" "DNS:test-client" clientAuth

# Expired: `openssl ca` is the 3.0 tool that takes explicit validity dates.
key expired
openssl req -new -key expired.key -subj "/CN=localhost/O=actnet tests expired" -out expired.csr 2>/dev/null
ext expired "DNS:localhost,IP:127.0.0.1" serverAuth
mkdir -p ca-db && : > ca-db/index.txt && echo 01 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
[any]
commonName = supplied
organizationName = optional
CNF
openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
  -startdate 20200101000000Z -enddate 20200102000000Z -extfile expired.ext -out expired.pem -notext 2>/dev/null

key selfsigned
openssl req -x509 -new -key selfsigned.key -subj "/CN=localhost/O=self-signed" -days 30 \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out selfsigned.pem 2>/dev/null

rm -f ./*.csr ./*.ext ./*.srl
echo "certificates in $dir"
