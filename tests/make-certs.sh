#!/usr/bin/env bash
# Test PKI for the integration tests: a CA, a server certificate for
# 127.0.0.1/localhost, client certificates from that CA, and a second,
# foreign CA whose client certificate the daemon must refuse.
set -euo pipefail
out=${1:?usage: make-certs.sh DIR}
mkdir -p "$out"
cd "$out"
[ -f done ] && exit 0

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() { # name
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -sha256 -days 30 \
		-subj "/CN=wsusdiag test $1/O=wsusdiag tests" \
		-addext basicConstraints=critical,CA:true \
		-addext keyUsage=critical,keyCertSign,cRLSign -out "$1.crt"
}

leaf() { # name cn ca eku [san]
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2/O=wsusdiag tests" -out "$1.csr"
	{
		echo "basicConstraints=CA:false"
		echo "keyUsage=critical,digitalSignature"
		echo "extendedKeyUsage=$4"
		[ -n "${5:-}" ] && echo "subjectAltName=$5"
	} >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" \
		-CAcreateserial -days 30 -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

ca ca
ca foreign-ca
leaf server localhost ca serverAuth "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf admin-client console.test ca clientAuth
leaf read-client reader.test ca clientAuth
leaf unmapped-client stranger.test ca clientAuth
leaf foreign-client console.test foreign-ca clientAuth
chmod 600 ./*.key
touch done
