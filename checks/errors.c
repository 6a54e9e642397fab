/*
 * errors.c: the error-code knowledge base.
 *
 * One sorted table, searched with bsearch. Every row of the two seed
 * tables ("BITS fails to start", "BITS jobs are failing") is here with
 * the seed's own name and a source naming the section; the rest are the
 * codes the daemon reports itself (SCM, registry, files) and the Windows
 * Update agent, BITS and WinHTTP codes an administrator meets in event
 * logs and WindowsUpdate.log. Codes and names were checked against the
 * SDK headers (winerror.h, winhttp.h, bitsmsg.h, wuerror.h, esent.h,
 * ntdsbmsg.h); the words are ours.
 *
 * Win32 and WinHTTP rows are written with the Win32 number, ESE rows
 * with the JET_err number, so the hex is computed by the compiler, not
 * by hand.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks/errors.h"

/* HRESULT_FROM_WIN32 as a constant expression, for the table. */
#define W32(n) (0x80070000u | (uint32_t)(n))
/* BG_E_HTTP_ERROR_<status>: FACILITY_HTTP with the status in the code. */
#define BG_HTTP(s) (0x80190000u | (uint32_t)(s))

/*
 * An ESE (JET_err*) error as the agent logs it, 0xC8000000 | -err: the
 * form ntdsbmsg.h gives ESE's errors (hrReadVerifyFailure 0xC80003FA is
 * JET_errReadVerifyFailure, -1018). The agent's only ESE database is its
 * store, SoftwareDistribution\DataStore\DataStore.edb.
 */
#define ESE(n) (0xC8000000u | (uint32_t)(n))

#define SRC_START "Issues with BITS: BITS fails to start"
#define SRC_JOBS  "Issues with BITS: BITS jobs are failing"

/* Advice shared by rows that mean "look at the network path". */
#define ADV_PROXY                                                              \
	"Check name resolution and the proxy the agent uses: the WinHTTP "     \
	"proxy (netsh winhttp show proxy) for the machine, the user's "        \
	"Internet Explorer proxy for user jobs (see the proxy check)."

/* The store's rows: what the seed's "Rebuild the Automatic Update Agent
 * Store" section does, as the store check's remedy. */
#define ADV_RESET_STORE                                                        \
	"Rebuild the update store (action: reset-store) and scan again."
/* Damage on disk: fix what damaged the file before rebuilding it. */
#define ADV_DISK_RESET                                                         \
	"Check the volume (chkdsk /f) and the drive's health: damage like "    \
	"this usually comes from the disk, its driver or a power loss. Then "  \
	"rebuild the update store (action: reset-store)."
/* WU_E_DS_NODATA and its kin: a lookup that found nothing. */
#define ADV_DS_MISS                                                            \
	"Usually nothing: the agent logs a lookup that found nothing and "     \
	"carries on. If scans keep failing with it, rebuild the update "       \
	"store (action: reset-store)."

const struct error_info error_table[] = {
    {0x00000000u, "S_OK",
     "The operation completed successfully (ERROR_SUCCESS, NO_ERROR).",
     "Nothing to do.", NULL},
    {0x00240005u, "WU_S_REBOOT_REQUIRED",
     "Success code: updates were installed but the computer must restart "
     "to finish.",
     "Restart the computer in a maintenance window; until then the "
     "updates are pending.",
     NULL},
    {0x00240006u, "WU_S_ALREADY_INSTALLED",
     "Success code: the update to be installed is already on the system.",
     "Nothing to do; if the server keeps offering it, compare the "
     "update's applicability with the installed build.",
     NULL},
    {0x80004001u, "E_NOTIMPL",
     "The called function is not implemented by the component that "
     "received the call.",
     "Usually a version mismatch between caller and component: update the "
     "Windows Update agent or the program that made the call.",
     NULL},
    {0x80004002u, "E_NOINTERFACE",
     "A COM object does not offer the interface that was asked for; the "
     "registration of the component is often incomplete.",
     "Re-register or repair the component (for BITS or the agent: reset "
     "Windows Update components), then retry.",
     NULL},
    {0x80004004u, "E_ABORT", "The operation was aborted.",
     "Retry; if it recurs, look in the event log for what cancelled it.", NULL},
    {0x80004005u, "E_FAIL",
     "Unspecified failure: the component gave no more precise reason.",
     "Look at the surrounding lines of WindowsUpdate.log or the event log "
     "for the real cause.",
     NULL},
    {0x8000FFFFu, "E_UNEXPECTED", "A catastrophic or unexpected failure.",
     "Restart the service involved; if it recurs, reset Windows Update "
     "components.",
     NULL},
    {0x80040154u, "REGDB_E_CLASSNOTREG",
     "A COM class is not registered. For BITS it points to a corrupted COM+ "
     "catalog: BITS relies on the EventSystem (and on old systems SENS) "
     "services, which need that catalog.",
     "Check that the EventSystem and SENS services start; repair the COM+ "
     "catalog, then restart BITS (action: restart-bits).",
     SRC_START},
    {0x80040206u, "EVENT_E_INTERNALERROR",
     "The COM+ event system reported an internal error. BITS depends on "
     "EventSystem and SENS; a corrupted COM+ catalog makes BITS fail to "
     "start with this code.",
     "Check that the EventSystem and SENS services run; repair the COM+ "
     "catalog, then restart BITS (action: restart-bits).",
     SRC_START},
    {W32(2), "ERROR_FILE_NOT_FOUND",
     "A file, or a registry key or value, does not exist. When BITS fails "
     "to start with it, the BITS Parameters key or its ServiceDll value "
     "is missing.",
     "Make sure HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters "
     "has ServiceDll = %SystemRoot%\\System32\\qmgr.dll (REG_EXPAND_SZ) "
     "(action: repair-bits).",
     SRC_START},
    {W32(3), "ERROR_PATH_NOT_FOUND",
     "A folder on the path does not exist. Before Windows Vista, BITS "
     "fails to start with it when %ALLUSERSPROFILE%\\Microsoft\\Network is "
     "missing.",
     "Create the missing folder (on old systems "
     "%ALLUSERSPROFILE%\\Microsoft\\Network) and restart BITS.",
     SRC_START},
    {W32(5), "ERROR_ACCESS_DENIED",
     "Access is denied (E_ACCESSDENIED): the account lacks the right for "
     "the service, registry key or file, or a policy forbids the change.",
     "Run the daemon as LocalSystem or an administrator; check the ACL of "
     "the object named in the finding and any policy that locks it.",
     NULL},
    {W32(13), "ERROR_INVALID_DATA",
     "The data is invalid: a registry value or file has an unexpected "
     "type or content.",
     "Look at the value named in the finding and correct its type and "
     "content.",
     NULL},
    {W32(14), "E_OUTOFMEMORY",
     "Not enough memory or storage to complete the operation "
     "(ERROR_OUTOFMEMORY).",
     "Free memory or restart the computer, then retry.", NULL},
    {W32(21), "ERROR_NOT_READY",
     "The device or volume is not ready, for example a removable or "
     "network volume that is not available.",
     "Check that the volume holding the file is online, then retry.", NULL},
    {W32(32), "ERROR_SHARING_VIOLATION",
     "The file is being used by another process, so it cannot be opened, "
     "renamed or deleted now.",
     "Stop the service holding it (wuauserv, BITS, cryptsvc) and retry; "
     "the store reset action stops wuauserv first.",
     NULL},
    {W32(50), "ERROR_NOT_SUPPORTED",
     "The request is not supported by this system or component.",
     "Check that the operation applies to this Windows version.", NULL},
    {W32(87), "E_INVALIDARG",
     "An argument is invalid (ERROR_INVALID_PARAMETER). For a BITS job it "
     "means the job owner's Internet Explorer proxy names a proxy server "
     "that is not valid, or credentials were given with an empty user "
     "name or password for an authentication scheme other than "
     "NTLM/Negotiate.",
     "Correct the proxy server in the job owner's Internet Explorer "
     "settings, or supply a user name and password for Basic/Digest "
     "schemes (or use NTLM/Negotiate).",
     SRC_JOBS},
    {W32(112), "ERROR_DISK_FULL", "There is not enough space on the disk.",
     "Free space on the system volume; the update store "
     "(C:\\Windows\\SoftwareDistribution) needs several GB.",
     NULL},
    {W32(120), "ERROR_CALL_NOT_IMPLEMENTED",
     "The function is not implemented on this system (seen on "
     "compatibility layers that lack a Windows API).",
     "Run the daemon on a real Windows client for this check.", NULL},
    {W32(122), "ERROR_INSUFFICIENT_BUFFER",
     "The buffer passed to a system call was too small for the data.",
     "An internal error of the caller: report it with the finding.", NULL},
    {W32(124), "ERROR_INVALID_LEVEL",
     "The system call does not support the information level asked for; "
     "some QueryServiceConfig2 levels are missing on older systems and on "
     "Wine.",
     "The setting cannot be read on this system; check it with sc qc / sc "
     "qfailure on a real Windows client.",
     NULL},
    {W32(183), "ERROR_ALREADY_EXISTS",
     "The file or key to create already exists. A rename whose target is "
     "taken fails with it.",
     "Remove or rename the existing target (earlier backups of the store "
     "carry a time stamp) and retry.",
     NULL},
    {W32(234), "ERROR_MORE_DATA",
     "More data is available than the buffer could take.",
     "An internal error of the caller: report it with the finding.", NULL},
    {W32(258), "WAIT_TIMEOUT",
     "The wait operation timed out: a process or operation did not "
     "finish in time.",
     "Retry with a longer time limit; look at what the program was "
     "waiting for.",
     NULL},
    {W32(1051), "ERROR_DEPENDENT_SERVICES_RUNNING",
     "A stop control was sent to a service that other running services "
     "depend on.",
     "Stop the dependent services first, or restart them together.", NULL},
    {W32(1052), "ERROR_INVALID_SERVICE_CONTROL",
     "The control code is not valid for this service.",
     "Check the service's state and the controls it accepts (sc query).", NULL},
    {W32(1053), "ERROR_SERVICE_REQUEST_TIMEOUT",
     "The service did not respond to the start or control request in a "
     "timely fashion.",
     "Look in the System event log for why the service hangs; restart it "
     "and, if it persists, repair its configuration.",
     NULL},
    {W32(1055), "ERROR_SERVICE_DATABASE_LOCKED",
     "The service database is locked by another configuration change.",
     "Wait a moment and retry.", NULL},
    {W32(1056), "ERROR_SERVICE_ALREADY_RUNNING",
     "An instance of the service is already running.",
     "Nothing to do: the service is started.", NULL},
    {W32(1057), "ERROR_INVALID_SERVICE_ACCOUNT",
     "The account name for the service is invalid or does not exist.",
     "Set the account back to LocalSystem (sc config bits obj= "
     "LocalSystem; action: repair-bits).",
     NULL},
    {W32(1058), "ERROR_SERVICE_DISABLED",
     "The service cannot be started because its start type is Disabled. "
     "For BITS: BITS has been disabled.",
     "Enable the service: set its start type to Manual or Automatic "
     "(Delayed Start) and start it (action: repair-bits or "
     "start-wuauserv).",
     SRC_START},
    {W32(1059), "ERROR_CIRCULAR_DEPENDENCY",
     "The service dependencies form a cycle.",
     "Correct the service's dependency list (for BITS: RpcSs, "
     "EventSystem).",
     NULL},
    {W32(1060), "ERROR_SERVICE_DOES_NOT_EXIST",
     "The service is not installed: its registration in the service "
     "database is missing or corrupted.",
     "Repair the BITS configuration as the seed describes (binpath, "
     "dependencies, start type, account, privileges, failure actions; "
     "action: repair-bits).",
     SRC_START},
    {W32(1061), "ERROR_SERVICE_CANNOT_ACCEPT_CTRL",
     "The service cannot accept control messages now, usually because it "
     "is starting or stopping.",
     "Wait until the service leaves its pending state and retry.", NULL},
    {W32(1062), "ERROR_SERVICE_NOT_ACTIVE", "The service has not been started.",
     "Start the service (sc start) if it should be running.", NULL},
    {W32(1064), "ERROR_EXCEPTION_IN_SERVICE",
     "An exception occurred in the service while it handled the request.",
     "Look in the Application and System event logs; restart the service "
     "and reset Windows Update components if it recurs.",
     NULL},
    {W32(1066), "ERROR_SERVICE_SPECIFIC_ERROR",
     "The service stopped with an error code of its own (see the service "
     "exit code).",
     "Look up the service-specific exit code reported by sc query.", NULL},
    {W32(1067), "ERROR_PROCESS_ABORTED",
     "The service process terminated unexpectedly.",
     "Look in the event log for the crash; restart the service.", NULL},
    {W32(1068), "ERROR_SERVICE_DEPENDENCY_FAIL",
     "A service or group the service depends on failed to start. For BITS "
     "a service in its dependency list cannot be started.",
     "Make the BITS dependency list correct (Windows Vista and later: "
     "RpcSs, EventSystem; also http.sys and LanmanWorkstation with peer "
     "caching) and check that those services start (action: "
     "repair-bits).",
     SRC_START},
    {W32(1069), "ERROR_SERVICE_LOGON_FAILED",
     "The service did not start because its account could not log on.",
     "Run BITS and wuauserv as LocalSystem (sc config bits obj= "
     "LocalSystem).",
     NULL},
    {W32(1070), "ERROR_SERVICE_START_HANG",
     "After starting, the service hung in the start-pending state.",
     "Restart the service; look in the event log for what it waits on.", NULL},
    {W32(1072), "ERROR_SERVICE_MARKED_FOR_DELETE",
     "The service has been marked for deletion; it cannot be started or "
     "reconfigured until the computer restarts.",
     "Close service tools that hold a handle to it (services.msc) or "
     "restart the computer, then recreate or repair the service.",
     NULL},
    {W32(1075), "ERROR_SERVICE_DEPENDENCY_DELETED",
     "A service in the dependency list does not exist or is marked for "
     "deletion. For BITS a listed dependency cannot be started.",
     "Make the BITS dependency list correct (Windows Vista and later: "
     "RpcSs, EventSystem; also http.sys and LanmanWorkstation with peer "
     "caching) (action: repair-bits).",
     SRC_START},
    {W32(1079), "ERROR_DIFFERENT_SERVICE_ACCOUNT",
     "The account of this service differs from the account of other "
     "services in the same shared process (svchost group).",
     "Set the service back to LocalSystem like the rest of the netsvcs "
     "group.",
     NULL},
    {W32(1083), "ERROR_SERVICE_NOT_IN_EXE",
     "The executable does not host this service. For BITS: BITS is not "
     "listed in the netsvcs svchost group.",
     "Add BITS to HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\"
     "Svchost\\netsvcs (REG_MULTI_SZ) and check its binpath "
     "(svchost.exe -k netsvcs) (action: repair-bits).",
     SRC_START},
    {W32(1245), "ERROR_NOT_LOGGED_ON",
     "BITS (2.0 and later) gets user logon notifications from the Service "
     "Control Manager, which relies on the SENS service; SENS is not "
     "delivering them, so BITS thinks the job owner is not logged on.",
     "Make sure the System Event Notification Service (SENS) is started "
     "and running correctly, then resume the jobs.",
     SRC_JOBS},
    {W32(1392), "ERROR_FILE_CORRUPT",
     "The file or directory is corrupted and unreadable. Under "
     "SoftwareDistribution it leaves the update store unusable.",
     ADV_DISK_RESET, NULL},
    {W32(1393), "ERROR_DISK_CORRUPT",
     "The disk structure is corrupted and unreadable: the file system of "
     "the volume is damaged.",
     ADV_DISK_RESET, NULL},
    {W32(1722), "RPC_S_SERVER_UNAVAILABLE",
     "The RPC server is unavailable: the service being called is not "
     "running or cannot be reached.",
     "Check that RpcSs and the called service run; restart the service.", NULL},
    {W32(1813), "ERROR_RESOURCE_TYPE_NOT_FOUND",
     "The file has no resource of the requested type, for example no "
     "version resource.",
     "The file is not the expected system binary: restore it or reset "
     "Windows Update components.",
     NULL},
    {W32(12002), "ERROR_WINHTTP_TIMEOUT",
     "The HTTP request timed out (WinINet: ERROR_INTERNET_TIMEOUT).",
     "Check that the WSUS server and any proxy answer in time; " ADV_PROXY,
     NULL},
    {W32(12004), "ERROR_WINHTTP_INTERNAL_ERROR",
     "An internal error occurred in the HTTP stack (WinHTTP; on Linux "
     "wsusdiagd reports libcurl failures so).",
     "The request never reached the network: see the message for the "
     "cause; on Windows, repair or update WinHTTP (winhttp.dll), on "
     "Linux install libcurl4.",
     NULL},
    {W32(12005), "ERROR_WINHTTP_INVALID_URL", "The URL is not valid.",
     "Correct the WUServer/WUStatusServer policy URL "
     "(http[s]://server:port) and run gpupdate (action: gpupdate).",
     NULL},
    {W32(12006), "ERROR_WINHTTP_UNRECOGNIZED_SCHEME",
     "The URL uses a scheme other than http or https.",
     "Correct the WUServer policy URL to start with http:// or https://.",
     NULL},
    {W32(12007), "ERROR_WINHTTP_NAME_NOT_RESOLVED",
     "BITS could not resolve the name of the server or the proxy. A "
     "browser running as the job owner on this computer would fail the "
     "same way.",
     "Try to download the same URL with a browser as the job owner; fix "
     "DNS or the proxy name. " ADV_PROXY,
     SRC_JOBS},
    {W32(12015), "ERROR_WINHTTP_LOGIN_FAILURE",
     "The server or proxy rejected the credentials.",
     "Check the proxy authentication requirements for the computer "
     "account.",
     NULL},
    {W32(12017), "ERROR_WINHTTP_OPERATION_CANCELLED",
     "The request was cancelled, usually because its handle was closed.",
     "Retry; it is usually transient.", NULL},
    {W32(12029), "ERROR_WINHTTP_CANNOT_CONNECT",
     "The connection to the server (or proxy) failed: nothing answered on "
     "that address and port, or a firewall dropped it.",
     "Check that the WSUS server listens on the policy's port (8530/8531 "
     "by default) and that firewalls and the proxy let the client "
     "through.",
     NULL},
    {W32(12030), "ERROR_WINHTTP_CONNECTION_ERROR",
     "The connection was reset or terminated by the server or a device in "
     "between.",
     "Check the proxy and any TLS-inspecting firewall between the client "
     "and the WSUS server; retry.",
     NULL},
    {W32(12037), "ERROR_WINHTTP_SECURE_CERT_DATE_INVALID",
     "The server's TLS certificate has expired or is not yet valid.",
     "Renew the WSUS server certificate; check the client's clock.", NULL},
    {W32(12038), "ERROR_WINHTTP_SECURE_CERT_CN_INVALID",
     "The server's TLS certificate does not match the host name in the "
     "URL.",
     "Use the name the certificate was issued for in the WUServer policy, "
     "or reissue the certificate with that name.",
     NULL},
    {W32(12044), "ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED",
     "The server requires a client certificate.",
     "Configure the WSUS site not to require client certificates, or "
     "provide one.",
     NULL},
    {W32(12045), "ERROR_WINHTTP_SECURE_INVALID_CA",
     "The server's TLS certificate is issued by an authority the client "
     "does not trust.",
     "Install the issuing CA in the computer's Trusted Root store (by "
     "Group Policy).",
     NULL},
    {W32(12057), "ERROR_WINHTTP_SECURE_CERT_REV_FAILED",
     "The revocation status of the server's certificate could not be "
     "checked (CRL or OCSP unreachable).",
     "Let the client reach the CRL/OCSP locations in the certificate.", NULL},
    {W32(12152), "ERROR_HTTP_INVALID_SERVER_RESPONSE",
     "The server's response could not be parsed "
     "(ERROR_WINHTTP_INVALID_SERVER_RESPONSE in WinHTTP). BITS treats it "
     "as transient.",
     "Usually nothing: the job retries and continues downloading. If it "
     "persists, check the proxy between client and server.",
     SRC_JOBS},
    {W32(12156), "ERROR_WINHTTP_REDIRECT_FAILED",
     "A redirect could not be followed, for example from HTTPS to HTTP.",
     "Point the policy at the final URL of the WSUS server.", NULL},
    {W32(12157), "ERROR_WINHTTP_SECURE_CHANNEL_ERROR",
     "The TLS handshake failed: no common protocol version or cipher "
     "suite.",
     "Align the TLS versions and suites enabled on the WSUS server and "
     "the client.",
     NULL},
    {W32(12166), "ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT",
     "The proxy auto-configuration (PAC) script has an error.",
     "Fix the PAC script, or set a static WinHTTP proxy.", NULL},
    {W32(12167), "ERROR_WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT",
     "The proxy auto-configuration (PAC) script could not be downloaded.",
     "Check the auto-config URL; " ADV_PROXY, NULL},
    {W32(12169), "ERROR_WINHTTP_SECURE_INVALID_CERT",
     "The server's TLS certificate is invalid.",
     "Reissue the WSUS server certificate.", NULL},
    {W32(12170), "ERROR_WINHTTP_SECURE_CERT_REVOKED",
     "The server's TLS certificate has been revoked.",
     "Reissue the WSUS server certificate.", NULL},
    {W32(12175), "ERROR_WINHTTP_SECURE_FAILURE",
     "The server's TLS certificate failed validation (untrusted, expired, "
     "wrong name or revoked).",
     "Inspect the certificate of the WSUS server or of a TLS-inspecting "
     "proxy; install the issuing CA or reissue it.",
     NULL},
    {W32(12178), "ERROR_WINHTTP_AUTO_PROXY_SERVICE_ERROR",
     "A proxy for the URL could not be found by the auto-proxy service.",
     "Check the PAC script and WPAD, or set a static WinHTTP proxy.", NULL},
    {W32(12179), "ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE",
     "The server's certificate is not valid for server authentication.",
     "Reissue the certificate with the Server Authentication usage.", NULL},
    {W32(12180), "ERROR_WINHTTP_AUTODETECTION_FAILED",
     "Proxy auto-detection (WPAD) found no configuration.",
     "Normal where no WPAD is published; otherwise publish it or set the "
     "proxy explicitly.",
     NULL},
    {BG_HTTP(400), "BG_E_HTTP_ERROR_400",
     "HTTP 400: the server (or proxy) could not process the request.",
     "Check the URL of the job and the proxy in between.", NULL},
    {BG_HTTP(401), "BG_E_HTTP_ERROR_401",
     "HTTP 401: the server requires authentication for this URL.",
     "Allow anonymous access to the WSUS content virtual directory.", NULL},
    {BG_HTTP(403), "BG_E_HTTP_ERROR_403",
     "HTTP 403 (Forbidden: access is denied) was returned for one of the "
     "job's requests, and BITS put the job in the error state.",
     "Check the access permissions of the account that runs the job on "
     "the server and the proxy.",
     SRC_JOBS},
    {BG_HTTP(404), "BG_E_HTTP_ERROR_404",
     "HTTP 404: the requested URL does not exist on the server.",
     "Check that the WSUS content exists (wsusutil reset on the server) "
     "and that the URL is right.",
     NULL},
    {BG_HTTP(405), "BG_E_HTTP_ERROR_405",
     "HTTP 405: the method (HEAD or GET) is not allowed.",
     "Allow HEAD and GET on the WSUS site and the proxy.", NULL},
    {BG_HTTP(407), "BG_E_HTTP_ERROR_407",
     "HTTP 407: the proxy requires authentication.",
     "Let the computer account through the proxy, or bypass the proxy for "
     "the WSUS server.",
     NULL},
    {BG_HTTP(408), "BG_E_HTTP_ERROR_408",
     "HTTP 408: the server timed out waiting for the request.",
     "Retry; check the network path.", NULL},
    {BG_HTTP(416), "BG_E_HTTP_ERROR_416",
     "HTTP 416: the server could not satisfy the range request.",
     "Check that the file on the server is complete and that the proxy "
     "handles Range requests.",
     NULL},
    {BG_HTTP(500), "BG_E_HTTP_ERROR_500",
     "HTTP 500: an error on the server prevented it from answering.",
     "Look at the WSUS server's IIS and application logs.", NULL},
    {BG_HTTP(502), "BG_E_HTTP_ERROR_502",
     "HTTP 502: a gateway or proxy got an invalid answer from upstream.",
     "Check the proxy and the WSUS server behind it.", NULL},
    {BG_HTTP(503), "BG_E_HTTP_ERROR_503",
     "HTTP 503: the service is temporarily overloaded or stopped (a WSUS "
     "application pool that stopped answers this).",
     "Check the WsusPool application pool on the server; retry later.", NULL},
    {BG_HTTP(504), "BG_E_HTTP_ERROR_504",
     "HTTP 504: a gateway timed out waiting for the server.",
     "Check the proxy and the WSUS server's load.", NULL},
    {0x80200001u, "BG_E_NOT_FOUND", "The requested BITS job was not found.",
     "The job was cancelled or completed; nothing to do unless it recurs.",
     NULL},
    {0x8020000Du, "BG_E_DESTINATION_LOCKED",
     "The destination volume is locked, for example by a disk check.",
     "Wait until the volume is available; BITS retries.", NULL},
    {0x80200010u, "BG_E_NETWORK_DISCONNECTED",
     "There is no active network connection; BITS waits for one.",
     "Check the network adapter; BITS resumes when it is connected.", NULL},
    {0x80200011u, "BG_E_MISSING_FILE_SIZE",
     "BITS sent a HEAD request and the server or proxy answered without a "
     "Content-Length header, so BITS put the job in the error state. Some "
     "Apache 2.0 proxy versions behave like this.",
     "Check that the proxy and the WSUS server return Content-Length on "
     "HEAD requests (see the server check's HEAD probe).",
     SRC_JOBS},
    {0x80200012u, "BG_E_INSUFFICIENT_HTTP_SUPPORT",
     "The server or proxy does not support HTTP/1.1.",
     "Use a proxy and server that speak HTTP/1.1.", NULL},
    {0x80200013u, "BG_E_INSUFFICIENT_RANGE_SUPPORT",
     "BITS asks for parts of a file with Range headers; the server or a "
     "proxy ignored the range and sent the whole file, so BITS put the "
     "job in the error state.",
     "Capture the traffic and check that GET requests with a Range header "
     "get 206 answers with Content-Range; configure the proxy to support "
     "Range requests (see the server check's Range probe).",
     SRC_JOBS},
    {0x8020001Bu, "BG_E_INVALID_SERVER_RESPONSE",
     "The server's answer did not follow the protocol.",
     "Resume the job; if it recurs, check the proxy.", NULL},
    {0x8020001Du, "BG_E_LOCAL_FILE_CHANGED",
     "The local file changed during the transfer.",
     "Cancel the job and let the agent create it again.", NULL},
    {0x8020002Bu, "BG_E_INVALID_RANGE",
     "A requested byte range lies beyond the end of the remote file.",
     "The file on the server is shorter than expected: check the WSUS "
     "content.",
     NULL},
    {0x8020002Du, "BG_E_CONNECT_FAILURE",
     "A connection could not be established.", ADV_PROXY, NULL},
    {0x8020002Eu, "BG_E_CONNECTION_CLOSED",
     "The connection was closed prematurely.",
     "Check the proxy and firewalls between client and server.", NULL},
    {0x8020003Eu, "BG_E_BLOCKED_BY_POLICY",
     "Group Policy prevents background jobs from running now (maintenance "
     "or work-hours schedule).",
     "Review the BITS Group Policy settings (see the bits-policy check).",
     NULL},
    {0x8020003Fu, "BG_E_INVALID_PROXY_INFO",
     "The proxy server or bypass list given to BITS is invalid.",
     "Correct the proxy list syntax (host:port).", NULL},
    {0x80200049u, "BG_E_TOO_MANY_JOBS_PER_USER",
     "The user has reached the per-user BITS job limit.",
     "Make the \"Maximum number of BITS jobs for each user\" policy lower "
     "than the per-computer limit, run gpupdate, restart BITS.",
     NULL},
    {0x80200050u, "BG_E_TOO_MANY_JOBS_PER_MACHINE",
     "The computer has reached the per-computer BITS job limit.",
     "Raise \"Maximum number of BITS jobs for this computer\" above the "
     "per-user limit, or cancel stale jobs (bitsadmin /reset /allusers).",
     NULL},
    {0x80200053u, "BG_E_VALIDATION_FAILED",
     "The server's answer failed validation.",
     "See the Bits-Client/Operational event log for details.", NULL},
    {0x80200054u, "BG_E_MAXDOWNLOAD_TIMEOUT",
     "The job did not finish within its maximum download time.",
     "Check bandwidth and policies that throttle BITS.", NULL},
    {0x80200056u, "BG_E_TOKEN_REQUIRED",
     "The job needs a security token that is not available now.",
     "The owning application must resume the job with a token.", NULL},
    {0x80200059u, "BG_E_BLOCKED_BY_COST_TRANSFER_POLICY",
     "The job's cost policy forbids transfers on the current (metered) "
     "network.",
     "Wait for an unmetered network or change the cost policy.", NULL},
    {0x8020006Cu, "BG_E_DATABASE_CORRUPT",
     "BITS detected corruption of its job database and shuts down to "
     "repair it.",
     "Restart BITS (action: restart-bits).", NULL},
    {0x80240001u, "WU_E_NO_SERVICE",
     "The Windows Update agent was unable to provide the service.",
     "Restart wuauserv (action: start-wuauserv); reset Windows Update "
     "components if it recurs.",
     NULL},
    {0x80240009u, "WU_E_OPERATIONINPROGRESS",
     "Another conflicting operation (such as an installation) was in "
     "progress.",
     "Wait for the running operation to finish and retry.", NULL},
    {0x8024000Bu, "WU_E_CALL_CANCELLED", "The operation was cancelled.",
     "Retry the scan or download.", NULL},
    {0x80240016u, "WU_E_INSTALL_NOT_ALLOWED",
     "An installation was attempted while another was running or a "
     "restart was pending.",
     "Restart the computer, then retry.", NULL},
    {0x80240017u, "WU_E_NOT_APPLICABLE",
     "No applicable updates: the operation was not performed.",
     "Nothing to do, unless updates were expected: then check approvals "
     "on the WSUS server.",
     NULL},
    {0x8024001Eu, "WU_E_SERVICE_STOP",
     "The operation did not complete because the service or the system "
     "was shutting down.",
     "Start wuauserv and retry (action: start-wuauserv).", NULL},
    {0x8024001Fu, "WU_E_NO_CONNECTION",
     "The operation did not complete because the network connection was "
     "unavailable.",
     "Check the network connection and retry.", NULL},
    {0x80240020u, "WU_E_NO_INTERACTIVE_USER",
     "The operation needs a logged-on interactive user and there is none.",
     "Retry while a user is logged on, or schedule installs without user "
     "interaction.",
     NULL},
    {0x80240021u, "WU_E_TIME_OUT", "The operation timed out.",
     "Retry; check server load and the network path.", NULL},
    {0x80240022u, "WU_E_ALL_UPDATES_FAILED",
     "The operation failed for all the updates.",
     "Look at WindowsUpdate.log for the error of each update.", NULL},
    {0x80240024u, "WU_E_NO_UPDATE", "There are no updates.",
     "Nothing to do, unless updates were expected: then check approvals "
     "and the computer's WSUS group.",
     NULL},
    {0x80240025u, "WU_E_USER_ACCESS_DISABLED",
     "Group Policy prevents the user from using Windows Update.",
     "Review the \"Remove access to use all Windows Update features\" "
     "policy.",
     NULL},
    {0x8024002Eu, "WU_E_WU_DISABLED",
     "Access to an unmanaged server (Microsoft Update) is not allowed by "
     "policy.",
     "Expected when WSUS is enforced; point the client at the WSUS server "
     "(see the policy check).",
     NULL},
    {0x80240030u, "WU_E_INVALID_PROXY_SERVER",
     "The proxy list has an invalid format.",
     "Correct the WinHTTP proxy (netsh winhttp set proxy) or the IE proxy "
     "list.",
     NULL},
    {0x80240032u, "WU_E_INVALID_CRITERIA",
     "The search criteria string was invalid.",
     "Correct the query of the script or tool that searched.", NULL},
    {0x80240034u, "WU_E_DOWNLOAD_FAILED", "The update failed to download.",
     "Check BITS and the network path (see the bits-jobs and server "
     "checks).",
     NULL},
    {0x80240438u, "WU_E_PT_ENDPOINT_UNREACHABLE",
     "There is no route or network connectivity to the update endpoint.",
     ADV_PROXY, NULL},
    {0x80240FFFu, "WU_E_UNEXPECTED",
     "An agent failure not covered by another WU_E_* code.",
     "Look at WindowsUpdate.log; reset Windows Update components if it "
     "recurs.",
     NULL},
    {0x80242006u, "WU_E_UH_INVALIDMETADATA",
     "The update contains invalid metadata.",
     "Rebuild the update store (action: reset-store) and scan again.", NULL},
    {0x8024200Bu, "WU_E_UH_INSTALLERFAILURE",
     "The installer failed to install (or uninstall) one or more updates.",
     "Look at the CBS and setup logs for the failing update.", NULL},
    {0x80242016u, "WU_E_UH_POSTREBOOTUNEXPECTEDSTATE",
     "After its post-restart operation the update is in an unexpected "
     "state.",
     "Restart again and rescan; reset Windows Update components if it "
     "persists.",
     NULL},
    {0x80244007u, "WU_E_PT_SOAPCLIENT_SOAPFAULT",
     "The server answered the SOAP request with a fault.",
     "Look at the WSUS server's logs; a client ID or cookie problem is "
     "common (action: reset-client-id).",
     NULL},
    {0x80244010u, "WU_E_PT_EXCEEDED_MAX_SERVER_TRIPS",
     "The number of round trips to the server exceeded the limit.",
     "Scan again: each scan makes progress. Declining superseded updates "
     "on the server helps.",
     NULL},
    {0x80244011u, "WU_E_PT_SUS_SERVER_NOT_SET",
     "The WUServer policy value is missing in the registry.",
     "Set WUServer and WUStatusServer in the WSUS Group Policy and run "
     "gpupdate (action: gpupdate; see the policy check).",
     NULL},
    {0x80244016u, "WU_E_PT_HTTP_STATUS_BAD_REQUEST",
     "HTTP 400 from the update server.",
     "Check the WUServer URL and any proxy in between.", NULL},
    {0x80244017u, "WU_E_PT_HTTP_STATUS_DENIED",
     "HTTP 401: the update server requires authentication.",
     "Allow anonymous access to the WSUS web services.", NULL},
    {0x80244018u, "WU_E_PT_HTTP_STATUS_FORBIDDEN",
     "HTTP 403: the server or a proxy refused the request.",
     "Check the proxy's rules and the WSUS site's permissions.", NULL},
    {0x80244019u, "WU_E_PT_HTTP_STATUS_NOT_FOUND",
     "HTTP 404: the server cannot find the requested URL.",
     "Check the WUServer URL and port; the WSUS site must serve "
     "/ClientWebService and /SimpleAuthWebService.",
     NULL},
    {0x8024401Bu, "WU_E_PT_HTTP_STATUS_PROXY_AUTH_REQ",
     "HTTP 407: the proxy requires authentication.",
     "Let the computer account through the proxy, or bypass the proxy for "
     "the WSUS server.",
     NULL},
    {0x8024401Cu, "WU_E_PT_HTTP_STATUS_REQUEST_TIMEOUT",
     "HTTP 408: the server timed out waiting for the request.",
     "Retry; check the server's load.", NULL},
    {0x8024401Fu, "WU_E_PT_HTTP_STATUS_SERVER_ERROR",
     "HTTP 500 from the update server.",
     "Look at the WSUS server's IIS and application logs.", NULL},
    {0x80244021u, "WU_E_PT_HTTP_STATUS_BAD_GATEWAY",
     "HTTP 502: a proxy or gateway got an invalid answer from the server.",
     "Check the proxy and that the WSUS server is up.", NULL},
    {0x80244022u, "WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL",
     "HTTP 503: the update service is overloaded or stopped.",
     "Check the WsusPool application pool on the server; retry later.", NULL},
    {0x80244023u, "WU_E_PT_HTTP_STATUS_GATEWAY_TIMEOUT",
     "HTTP 504: a gateway timed out waiting for the server.",
     "Check the proxy and the WSUS server's load.", NULL},
    {0x8024402Bu, "WU_E_PT_HTTP_STATUS_NOT_MAPPED",
     "The HTTP request failed for a reason no other WU_E_PT_HTTP_* code "
     "covers.",
     "Probe the server URL (see the server check).", NULL},
    {0x8024402Cu, "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED",
     "The proxy server or update server name cannot be resolved (same as "
     "ERROR_WINHTTP_NAME_NOT_RESOLVED).",
     ADV_PROXY, NULL},
    {0x8024402Fu, "WU_E_PT_ECP_SUCCEEDED_WITH_ERRORS",
     "External cab file processing completed with some errors.",
     "Often a proxy or filter altering downloaded cab files: exempt the "
     "WSUS server from content filtering.",
     NULL},
    {0x80244FFFu, "WU_E_PT_UNEXPECTED",
     "A communication error not covered by another WU_E_PT_* code.",
     "Probe the server URL (see the server check).", NULL},
    {0x8024500Cu, "WU_E_REDIRECTOR_CONNECT_POLICY",
     "Connections to the Microsoft redirector server are disallowed by "
     "policy.",
     "Expected when clients must use WSUS only; otherwise review the "
     "policies that block Internet locations.",
     NULL},
    {0x80246002u, "WU_E_DM_INCORRECTFILEHASH",
     "A downloaded file's digest does not match the metadata.",
     "Rebuild the update store (action: reset-store); check that no proxy "
     "alters the files.",
     NULL},
    {0x80246005u, "WU_E_DM_NONETWORK",
     "The download manager has no network connection.",
     "Check the network connection.", NULL},
    {0x80246007u, "WU_E_DM_NOTDOWNLOADED",
     "The update has not been downloaded.",
     "Download the update first; check BITS (see the bits check).", NULL},
    {0x80246008u, "WU_E_DM_FAILTOCONNECTTOBITS",
     "The download manager could not connect to BITS.",
     "Check that BITS can start (see the bits check; action: "
     "repair-bits).",
     NULL},
    {0x80246009u, "WU_E_DM_BITSTRANSFERERROR",
     "An unspecified BITS transfer error.",
     "Look at the BITS jobs and their errors (see the bits-jobs check).", NULL},
    {0x80248000u, "WU_E_DS_SHUTDOWN",
     "An operation failed because the Windows Update agent is shutting "
     "down.",
     "Nothing to do if wuauserv was stopping; otherwise start it and "
     "retry (action: start-wuauserv).",
     NULL},
    {0x80248001u, "WU_E_DS_INUSE",
     "An operation failed because the data store was in use.",
     "Let the agent's running operation finish and retry; restart "
     "wuauserv if it persists.",
     NULL},
    {0x80248002u, "WU_E_DS_INVALID",
     "The current and expected states of the data store do not match: "
     "the store is damaged.",
     ADV_RESET_STORE, NULL},
    {0x80248003u, "WU_E_DS_TABLEMISSING", "The data store is missing a table.",
     ADV_RESET_STORE, NULL},
    {0x80248004u, "WU_E_DS_TABLEINCORRECT",
     "The data store contains a table with unexpected columns.",
     ADV_RESET_STORE, NULL},
    {0x80248005u, "WU_E_DS_INVALIDTABLENAME",
     "A table could not be opened because it is not in the data store.",
     ADV_RESET_STORE, NULL},
    {0x80248006u, "WU_E_DS_BADVERSION",
     "The current and expected versions of the data store do not match.",
     "Rebuild the update store (action: reset-store): wuauserv creates "
     "it again in the version it expects.",
     NULL},
    {0x80248007u, "WU_E_DS_NODATA",
     "The information requested is not in the update data store.", ADV_DS_MISS,
     NULL},
    {0x80248008u, "WU_E_DS_MISSINGDATA",
     "The data store is missing required information, or has a NULL in "
     "a column that requires a value.",
     ADV_RESET_STORE, NULL},
    {0x80248009u, "WU_E_DS_MISSINGREF",
     "The data store is missing required information, or refers to "
     "license terms, a file, a localized property or a linked row that "
     "is missing.",
     ADV_RESET_STORE, NULL},
    {0x8024800Au, "WU_E_DS_UNKNOWNHANDLER",
     "The update was not processed because its update handler could not "
     "be recognized.",
     "Update the Windows Update agent (see the agent check), then scan "
     "again.",
     NULL},
    {0x8024800Bu, "WU_E_DS_CANTDELETE",
     "The update was not deleted because one or more services still "
     "refer to it.",
     "Not damage: the agent keeps an update a service refers to. Nothing "
     "to do unless scans fail with it.",
     NULL},
    {0x8024800Cu, "WU_E_DS_LOCKTIMEOUTEXPIRED",
     "The data store could not be locked within the allotted time.",
     "Restart wuauserv; rebuild the store if it recurs.", NULL},
    {0x8024800Du, "WU_E_DS_NOCATEGORIES",
     "The category was not added because it has no parent category and "
     "is not a top-level category itself.",
     "Scan again; if it recurs, rebuild the update store (action: "
     "reset-store) so the metadata is synchronized afresh.",
     NULL},
    {0x8024800Eu, "WU_E_DS_ROWEXISTS",
     "The row was not added because an existing row has the same "
     "primary key.",
     "Scan again; if it recurs, rebuild the update store (action: "
     "reset-store).",
     NULL},
    {0x8024800Fu, "WU_E_DS_STOREFILELOCKED",
     "The data store could not be initialized because another process "
     "has it locked.",
     "Find what holds DataStore.edb open (often an antivirus or backup "
     "agent), exclude %SystemRoot%\\SoftwareDistribution\\DataStore "
     "from scanning, then restart wuauserv.",
     NULL},
    {0x80248010u, "WU_E_DS_CANNOTREGISTER",
     "The data store may not be registered with COM in the current "
     "process.",
     "An internal agent error: restart wuauserv; update the agent if it "
     "recurs (see the agent check).",
     NULL},
    {0x80248011u, "WU_E_DS_UNABLETOSTART",
     "A data store object could not be created in another process.",
     "Restart wuauserv; if it recurs, rebuild the update store (action: "
     "reset-store).",
     NULL},
    {0x80248013u, "WU_E_DS_DUPLICATEUPDATEID",
     "The server sent the client the same update with two different "
     "revision IDs.",
     "Check the WSUS server's synchronization and run its cleanup "
     "wizard, then scan again.",
     NULL},
    {0x80248014u, "WU_E_DS_UNKNOWNSERVICE",
     "The update service is not in the data store.",
     "Rebuild the update store (action: reset-store).", NULL},
    {0x80248015u, "WU_E_DS_SERVICEEXPIRED",
     "An operation did not complete because the registration of the "
     "service has expired.",
     "Scan again so the agent registers the service anew (action: "
     "detect-now).",
     NULL},
    {0x80248016u, "WU_E_DS_DECLINENOTALLOWED",
     "A request to hide an update was declined: the update is mandatory "
     "or was deployed with a deadline.",
     "Expected; change the approval on the WSUS server instead of hiding "
     "the update on the client.",
     NULL},
    {0x80248017u, "WU_E_DS_TABLESESSIONMISMATCH",
     "A table was not closed because it is not associated with the "
     "session.",
     "An internal agent error: restart wuauserv; rebuild the store if it "
     "recurs.",
     NULL},
    {0x80248018u, "WU_E_DS_SESSIONLOCKMISMATCH",
     "A data store session lock did not match its session (Microsoft's "
     "text is that of WU_E_DS_TABLESESSIONMISMATCH: a table was not "
     "closed because it is not associated with the session).",
     "An internal agent error: restart wuauserv; rebuild the store if it "
     "recurs.",
     NULL},
    {0x80248019u, "WU_E_DS_NEEDWINDOWSSERVICE",
     "A request to remove the Windows Update service, or to unregister it "
     "from Automatic Updates, was declined: it is built in, or Automatic "
     "Updates has no other service to fall back to.",
     "Expected: leave the Windows Update service registered.", NULL},
    {0x8024801Au, "WU_E_DS_INVALIDOPERATION",
     "A request was declined because the operation is not allowed.",
     "Check what the calling tool or script asked the agent to do.", NULL},
    {0x8024801Bu, "WU_E_DS_SCHEMAMISMATCH",
     "The schema of the current data store and that of a table in a "
     "backup XML document do not match.",
     ADV_RESET_STORE, NULL},
    {0x8024801Cu, "WU_E_DS_RESETREQUIRED",
     "The data store requires a session reset: the session must be "
     "released and the operation retried with a new one.",
     "Usually transient: scan again; restart wuauserv if it recurs.", NULL},
    {0x8024801Du, "WU_E_DS_IMPERSONATED",
     "A data store operation did not complete because it was requested "
     "with an impersonated identity.",
     "Call the agent from a process that is not impersonating another "
     "user.",
     NULL},
    {0x8024801Eu, "WU_E_DS_DATANOTAVAILABLE",
     "An operation on update metadata did not complete because the data "
     "was never received from the server.",
     "Scan again so the agent fetches the metadata; if it recurs, probe "
     "the server (see the server check).",
     NULL},
    {0x8024801Fu, "WU_E_DS_DATANOTLOADED",
     "An operation on update metadata did not complete because the data "
     "was available but not loaded from the data store.",
     "Usually transient: scan again; rebuild the update store (action: "
     "reset-store) if it recurs.",
     NULL},
    {0x80248020u, "WU_E_DS_NODATA_NOSUCHREVISION",
     "A data store operation did not complete because no such update "
     "revision is known.",
     ADV_DS_MISS, NULL},
    {0x80248021u, "WU_E_DS_NODATA_NOSUCHUPDATE",
     "A data store operation did not complete because no such update is "
     "known.",
     ADV_DS_MISS, NULL},
    {0x80248022u, "WU_E_DS_NODATA_EULA",
     "A data store operation did not complete because an update's license "
     "terms (EULA) information is missing.",
     ADV_DS_MISS, NULL},
    {0x80248023u, "WU_E_DS_NODATA_SERVICE",
     "A data store operation did not complete because a service's "
     "information is missing.",
     ADV_DS_MISS, NULL},
    {0x80248024u, "WU_E_DS_NODATA_COOKIE",
     "A data store operation did not complete because a service's "
     "synchronization information is missing.",
     ADV_DS_MISS, NULL},
    {0x80248025u, "WU_E_DS_NODATA_TIMER",
     "A data store operation did not complete because a timer's "
     "information is missing.",
     ADV_DS_MISS, NULL},
    {0x80248026u, "WU_E_DS_NODATA_CCR",
     "A data store operation did not complete because a download's "
     "information is missing.",
     ADV_DS_MISS, NULL},
    {0x80248027u, "WU_E_DS_NODATA_FILE",
     "A data store operation did not complete because a file's "
     "information is missing.",
     ADV_DS_MISS, NULL},
    {0x80248028u, "WU_E_DS_NODATA_DOWNLOADJOB",
     "A data store operation did not complete because a download job's "
     "information is missing.",
     ADV_DS_MISS, NULL},
    {0x80248029u, "WU_E_DS_NODATA_TMI",
     "A data store operation did not complete because a service's "
     "timestamp information is missing.",
     ADV_DS_MISS, NULL},
    {0x80248FFFu, "WU_E_DS_UNEXPECTED",
     "A data store error not covered by another WU_E_DS_* code.",
     "Rebuild the update store (action: reset-store).", NULL},
    {0x8024A000u, "WU_E_AU_NOSERVICE",
     "Automatic Updates was unable to service incoming requests.",
     "Restart wuauserv (action: start-wuauserv).", NULL},
    {0x8024AFFFu, "WU_E_AU_UNEXPECTED",
     "An Automatic Updates error not covered by another WU_E_AU* code.",
     "Restart wuauserv; reset Windows Update components if it recurs.", NULL},
    {0x8024D007u, "WU_E_SETUP_REGISTRATION_FAILED",
     "The Windows Update agent could not be updated because regsvr32 "
     "returned an error.",
     "Update the Windows Update agent by hand to the latest version (see "
     "the agent check).",
     NULL},
    {0x8024F001u, "WU_E_REPORTER_EVENTCACHECORRUPT",
     "The event cache file, where the agent keeps the status events it "
     "reports to the server, was defective.",
     "Rebuild the update store (action: reset-store): the cache is kept "
     "under SoftwareDistribution. Then run wuauclt /reportnow.",
     NULL},
    /* ESE's errors, as the agent logs them: see ESE() above. */
    {ESE(501), "JET_errLogFileCorrupt",
     "ESE error -501: a transaction log file of the database is corrupt.",
     ADV_RESET_STORE, NULL},
    {ESE(510), "JET_errLogWriteFail",
     "ESE error -510: writing to a transaction log file failed.",
     "Check the volume's free space and health (chkdsk), restart "
     "wuauserv; if it recurs, rebuild the update store (action: "
     "reset-store).",
     NULL},
    {ESE(528), "JET_errMissingLogFile",
     "ESE error -528: the current transaction log file is missing.",
     ADV_RESET_STORE, NULL},
    {ESE(529), "JET_errLogDiskFull",
     "ESE error -529: the disk holding the transaction logs is full.",
     "Free space on the volume holding SoftwareDistribution (see the "
     "store check's free space finding), then restart wuauserv.",
     NULL},
    {ESE(533), "JET_errCheckpointCorrupt",
     "ESE error -533: the checkpoint file was not found or is corrupt.",
     ADV_RESET_STORE, NULL},
    {ESE(543), "JET_errRequiredLogFilesMissing",
     "ESE error -543: log files the database needs for recovery are "
     "missing.",
     ADV_RESET_STORE, NULL},
    {ESE(546), "JET_errLogSectorSizeMismatch",
     "ESE error -546: the sector size of the log files does not match "
     "the volume's; seen when a storage driver update changes the sector "
     "size the disk reports.",
     "Rebuild the update store (action: reset-store); if it comes back, "
     "see Microsoft KB 982018 (ESENT and changed sector sizes).",
     NULL},
    {ESE(550), "JET_errDatabaseDirtyShutdown",
     "ESE error -550: the database was not shut down cleanly and recovery "
     "must run before it can be used (once named "
     "JET_errDatabaseInconsistent).",
     "Restart wuauserv so ESE recovers the database; if the error stays, "
     "rebuild the update store (action: reset-store).",
     NULL},
    {ESE(583), "JET_errSectorSizeNotSupported",
     "ESE error -583: the disk reports a physical sector size ESE does not "
     "support for this file.",
     "Update the storage driver and firmware (ESE supports 512-byte and "
     "4 KB sectors), then rebuild the update store (action: "
     "reset-store).",
     NULL},
    {ESE(1011), "JET_errOutOfMemory", "ESE error -1011: out of memory.",
     "Free memory and restart wuauserv; if it recurs, rebuild the update "
     "store (action: reset-store).",
     NULL},
    {ESE(1018), "JET_errReadVerifyFailure",
     "ESE error -1018: a page of the database failed its checksum when "
     "read.",
     ADV_DISK_RESET, NULL},
    {ESE(1019), "JET_errPageNotInitialized",
     "ESE error -1019: a database page that should hold data is blank.",
     ADV_DISK_RESET, NULL},
    {ESE(1022), "JET_errDiskIO",
     "ESE error -1022: a disk I/O error on the database file.", ADV_DISK_RESET,
     NULL},
    {ESE(1032), "JET_errFileAccessDenied",
     "ESE error -1032: the file cannot be accessed: it is locked or in "
     "use.",
     "Find what holds DataStore.edb open (often an antivirus or backup "
     "agent), exclude %SystemRoot%\\SoftwareDistribution\\DataStore "
     "from scanning, then restart wuauserv.",
     NULL},
    {ESE(1090), "JET_errInstanceUnavailable",
     "ESE error -1090: the database instance cannot be used because it "
     "met a fatal error earlier.",
     "Look for the first ESE error before it (the store check shows "
     "ESENT's events); restart wuauserv, and rebuild the update store "
     "(action: reset-store) if that error was damage.",
     NULL},
    {ESE(1121), "JET_errFileSystemCorruption",
     "ESE error -1121: a file system operation failed with an error "
     "saying the file system is corrupt.",
     ADV_DISK_RESET, NULL},
    {ESE(1206), "JET_errDatabaseCorrupted",
     "ESE error -1206: the file is not a database, or the database is "
     "corrupted.",
     ADV_RESET_STORE, NULL},
    {ESE(1220), "JET_errCatalogCorrupted",
     "ESE error -1220: corruption was detected in the database's catalog "
     "(its list of tables and columns).",
     ADV_RESET_STORE, NULL},
    {ESE(1224), "JET_errDatabaseCorruptedNoRepair",
     "ESE error -1224: the database is corrupted and may not be repaired.",
     ADV_RESET_STORE, NULL},
    {ESE(1413), "JET_errPrimaryIndexCorrupted",
     "ESE error -1413: a primary index of the database is corrupt.",
     ADV_RESET_STORE, NULL},
    {ESE(1414), "JET_errSecondaryIndexCorrupted",
     "ESE error -1414: a secondary index of the database is corrupt; over "
     "Unicode text a change of sort order is a likely cause.",
     ADV_RESET_STORE, NULL},
    {ESE(1526), "JET_errLVCorrupted",
     "ESE error -1526: corruption in the database's long-value (large "
     "column) tree.",
     ADV_RESET_STORE, NULL},
    {ESE(1808), "JET_errDiskFull", "ESE error -1808: no space left on disk.",
     "Free space on the volume holding SoftwareDistribution (see the "
     "store check's free space finding), then retry.",
     NULL},
    {ESE(1811), "JET_errFileNotFound",
     "ESE error -1811: a file of the database was not found.", ADV_RESET_STORE,
     NULL},
    {ESE(1919), "JET_errFlushMapDatabaseMismatch",
     "ESE error -1919: the persisted flush map (the .jfm file) and the "
     "database do not match.",
     "Nothing to do when ESENT logs it as a warning: it rebuilds the "
     "flush map. As a lasting error, rebuild the update store (action: "
     "reset-store).",
     NULL},
};

const size_t error_table_len = sizeof(error_table) / sizeof(error_table[0]);

/* Win32-side names where the table row carries the HRESULT-side name. */
static const struct {
	uint32_t err;
	const char *name;
} win32_alias[] = {
    {14, "ERROR_OUTOFMEMORY"},
    {87, "ERROR_INVALID_PARAMETER"},
    {12152, "ERROR_WINHTTP_INVALID_SERVER_RESPONSE"},
};

/* winerror.h FACILITY_* values; 9 is also FACILITY_SSPI. */
static const struct {
	uint32_t value;
	const char *name;
} facilities[] = {
    {0, "FACILITY_NULL"},
    {1, "FACILITY_RPC"},
    {2, "FACILITY_DISPATCH"},
    {3, "FACILITY_STORAGE"},
    {4, "FACILITY_ITF"},
    {7, "FACILITY_WIN32"},
    {8, "FACILITY_WINDOWS"},
    {9, "FACILITY_SECURITY"},
    {10, "FACILITY_CONTROL"},
    {11, "FACILITY_CERT"},
    {12, "FACILITY_INTERNET"},
    {13, "FACILITY_MEDIASERVER"},
    {14, "FACILITY_MSMQ"},
    {15, "FACILITY_SETUPAPI"},
    {16, "FACILITY_SCARD"},
    {17, "FACILITY_COMPLUS"},
    {18, "FACILITY_AAF"},
    {19, "FACILITY_URT"},
    {20, "FACILITY_ACS"},
    {21, "FACILITY_DPLAY"},
    {22, "FACILITY_UMI"},
    {23, "FACILITY_SXS"},
    {24, "FACILITY_WINDOWS_CE"},
    {25, "FACILITY_HTTP"},
    {26, "FACILITY_USERMODE_COMMONLOG"},
    {31, "FACILITY_USERMODE_FILTER_MANAGER"},
    {32, "FACILITY_BACKGROUNDCOPY"},
    {33, "FACILITY_CONFIGURATION"},
    {34, "FACILITY_STATE_MANAGEMENT"},
    {35, "FACILITY_METADIRECTORY"},
    {36, "FACILITY_WINDOWSUPDATE"},
    {37, "FACILITY_DIRECTORYSERVICE"},
    {38, "FACILITY_GRAPHICS"},
    {39, "FACILITY_SHELL"},
    {40, "FACILITY_TPM_SERVICES"},
    {41, "FACILITY_TPM_SOFTWARE"},
    {48, "FACILITY_PLA"},
    {49, "FACILITY_FVE"},
    {50, "FACILITY_FWP"},
    {51, "FACILITY_WINRM"},
    {52, "FACILITY_NDIS"},
    {80, "FACILITY_WINDOWS_DEFENDER"},
};

static int
cmp_code(const void *key, const void *elem)
{
	hr_t k = *(const hr_t *)key;
	hr_t c = ((const struct error_info *)elem)->code;

	return (k > c) - (k < c);
}

const struct error_info *
error_lookup(hr_t code)
{
	return bsearch(&code, error_table, error_table_len,
		       sizeof(error_table[0]), cmp_code);
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1..maxdigits hex digits and nothing else. */
static bool
parse_hex(const char *s, size_t maxdigits, uint32_t *out)
{
	uint32_t v = 0;
	size_t n;
	int d;

	for (n = 0; s[n] != '\0'; n++) {
		if (n == maxdigits || (d = hex_value(s[n])) < 0)
			return false;
		v = (v << 4) | (uint32_t)d;
	}
	if (n == 0)
		return false;
	*out = v;
	return true;
}

/* 1..5 decimal digits, at most 65535 (a Win32 error number). */
static bool
parse_win32_decimal(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		if (n == 5 || s[n] < '0' || s[n] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[n] - '0');
	}
	if (n == 0 || v > 0xFFFFu)
		return false;
	*out = v;
	return true;
}

bool
error_parse(const char *text, hr_t *out)
{
	uint32_t v;
	size_t len;

	if (text == NULL)
		return false;
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		if (!parse_hex(text + 2, 8, &v))
			return false;
		*out = v;
		return true;
	}
	len = strlen(text);
	if (len == 8 && parse_hex(text, 8, &v)) {
		*out = v;
		return true;
	}
	if (!parse_win32_decimal(text, &v))
		return false;
	*out = hr_from_win32(v);
	return true;
}

void
error_format(hr_t code, char out[11])
{
	snprintf(out, 11, "0x%08" PRIX32, code);
}

static const char *
facility_name(uint32_t facility)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (facilities[i].value == facility)
			return facilities[i].name;
	return NULL;
}

static const char *
win32_name(uint32_t err)
{
	const struct error_info *e;
	size_t i;

	for (i = 0; i < sizeof(win32_alias) / sizeof(win32_alias[0]); i++)
		if (win32_alias[i].err == err)
			return win32_alias[i].name;
	e = error_lookup(hr_from_win32(err));
	return e != NULL ? e->name : NULL;
}

static void
add_str_or_null(cJSON *o, const char *key, const char *s)
{
	if (s != NULL)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

/* Severity, facility and code; for a wrapped Win32 error its number. */
/*
 * 0xC800xxxx is how the agent logs a database (ESE) error: -err in the
 * low word. As an HRESULT its facility reads 0, which tells nothing.
 */
static void
add_ese(cJSON *o, hr_t code)
{
	const struct error_info *e;
	cJSON *j;

	if ((code & 0xFFFF0000u) != 0xC8000000u || (code & 0xFFFFu) == 0)
		return;
	e = error_lookup(code);
	j = cJSON_AddObjectToObject(o, "ese");
	cJSON_AddNumberToObject(j, "value", -(double)(code & 0xFFFFu));
	add_str_or_null(j, "name", e != NULL ? e->name : NULL);
}

static void
add_decomposition(cJSON *o, hr_t code)
{
	uint32_t facility = (code >> 16) & 0x7FFu;
	uint32_t low = code & 0xFFFFu;
	bool failure = (code & 0x80000000u) != 0;
	cJSON *f, *w;

	cJSON_AddStringToObject(o, "severity", failure ? "failure" : "success");
	f = cJSON_AddObjectToObject(o, "facility");
	cJSON_AddNumberToObject(f, "value", facility);
	add_str_or_null(f, "name", facility_name(facility));
	cJSON_AddNumberToObject(o, "code_value", low);
	/* HRESULT_FROM_WIN32 always sets the failure bit; without it the
	 * low word is not a Win32 error number. */
	if (facility == HR_FACILITY_WIN32 && failure) {
		w = cJSON_AddObjectToObject(o, "win32");
		cJSON_AddNumberToObject(w, "value", low);
		add_str_or_null(w, "name", win32_name(low));
	}
	add_ese(o, code);
}

cJSON *
error_explain(hr_t code)
{
	const struct error_info *e = error_lookup(code);
	char text[11];
	cJSON *o = cJSON_CreateObject();

	error_format(code, text);
	cJSON_AddStringToObject(o, "code", text);
	cJSON_AddBoolToObject(o, "known", e != NULL);
	add_str_or_null(o, "name", e != NULL ? e->name : NULL);
	add_str_or_null(o, "description", e != NULL ? e->description : NULL);
	add_str_or_null(o, "advice", e != NULL ? e->advice : NULL);
	add_str_or_null(o, "source", e != NULL ? e->source : NULL);
	add_decomposition(o, code);
	return o;
}
