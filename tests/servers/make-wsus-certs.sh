#!/usr/bin/env bash
# Test PKI for the WSUS-like servers of the server check's tests:
#   ca.crt                the test CA (the simulated host trusts it)
#   good.{crt,key}        127.0.0.1 and localhost, from the CA: passes
#   wrong-name.{crt,key}  from the CA, but for wsus.wrong.example only
#   expired.{crt,key}     127.0.0.1 and localhost, from the CA, expired
#   unknown-ca.{crt,key}  127.0.0.1 and localhost, from another CA
# Usage: make-wsus-certs.sh DIR (made once; "done" marks a complete set).
set -euo pipefail
out=${1:?usage: make-wsus-certs.sh DIR}
mkdir -p "$out"
cd "$out"
[ -f done ] && exit 0

SAN="DNS:localhost,IP:127.0.0.1"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() { # name
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -sha256 -days 30 \
		-subj "/CN=wsusdiag WSUS test $1/O=wsusdiag tests" \
		-addext basicConstraints=critical,CA:true \
		-addext keyUsage=critical,keyCertSign,cRLSign -out "$1.crt"
}

# The extensions of a TLS server certificate for san.
extfile() { # file san
	{
		echo "basicConstraints=CA:false"
		echo "keyUsage=critical,digitalSignature"
		echo "extendedKeyUsage=serverAuth"
		echo "subjectAltName=$2"
	} >"$1"
}

leaf() { # name cn san ca
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2/O=wsusdiag tests" -out "$1.csr"
	extfile "$1.ext" "$3"
	openssl x509 -req -in "$1.csr" -CA "$4.crt" -CAkey "$4.key" \
		-CAcreateserial -days 30 -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

# x509 -req cannot back-date; openssl ca takes explicit dates.
expired() { # name cn san ca
	local db="$1.db"
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2/O=wsusdiag tests" -out "$1.csr"
	extfile "$1.ext" "$3"
	mkdir -p "$db"
	: >"$db/index.txt"
	echo 1000 >"$db/serial"
	cat >"$db/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
certificate = $4.crt
private_key = $4.key
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
organizationName = optional
CNF
	openssl ca -batch -config "$db/ca.cnf" -notext -extfile "$1.ext" \
		-startdate 20200101000000Z -enddate 20200201000000Z \
		-in "$1.csr" -out "$1.crt" 2>/dev/null
	rm -rf "$db" "$1.csr" "$1.ext"
}

ca ca
ca other-ca
leaf good localhost "$SAN" ca
leaf wrong-name wsus.wrong.example "DNS:wsus.wrong.example" ca
expired expired localhost "$SAN" ca
leaf unknown-ca localhost "$SAN" other-ca
rm -f other-ca.key ./*.srl
chmod 600 ./*.key
touch done
