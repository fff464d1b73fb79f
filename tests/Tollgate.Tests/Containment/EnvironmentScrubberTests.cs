using Tollgate.Containment;

namespace Tollgate.Tests.Containment;

public sealed class EnvironmentScrubberTests
{
    private static readonly EnvironmentScrubber s_default = new();

    [Theory]
    [InlineData("AZURE_CLIENT_SECRET", "AZURE_*")]
    [InlineData("AZURE_CLIENT_ID", "AZURE_*")]
    [InlineData("ARM_CLIENT_SECRET", "ARM_*")]
    [InlineData("MSI_ENDPOINT", "MSI_*")]
    [InlineData("IDENTITY_ENDPOINT", "IDENTITY_*")]
    [InlineData("IDENTITY_HEADER", "IDENTITY_*")]
    [InlineData("AWS_SECRET_ACCESS_KEY", "AWS_*")]
    [InlineData("AWS_SESSION_TOKEN", "AWS_*")]
    [InlineData("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_*")]
    [InlineData("GCLOUD_PROJECT", "GCLOUD_*")]
    [InlineData("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", "CLOUDSDK_*")]
    [InlineData("GITHUB_TOKEN", "GITHUB_TOKEN")]
    [InlineData("GH_TOKEN", "GH_TOKEN")]
    [InlineData("GITLAB_TOKEN", "GITLAB_TOKEN")]
    [InlineData("CI_JOB_TOKEN", "CI_JOB_TOKEN")]
    [InlineData("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_*")]
    [InlineData("SYSTEM_ACCESSTOKEN", "SYSTEM_ACCESSTOKEN")]
    [InlineData("NPM_TOKEN", "NPM_TOKEN")]
    [InlineData("NODE_AUTH_TOKEN", "NODE_AUTH_TOKEN")]
    [InlineData("NUGET_API_KEY", "NUGET_API_KEY")]
    [InlineData("VSS_NUGET_EXTERNAL_FEED_ENDPOINTS", "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS")]
    [InlineData("SSH_AUTH_SOCK", "SSH_AUTH_SOCK")]
    [InlineData("CUSTOMCONNSTR_MAIN", "*CONNSTR_*")]
    [InlineData("REDIS_CONNSTR", "*_CONNSTR")]
    [InlineData("GITLAB_PAT", "*_PAT")]
    public void WithholdReason_CredentialNames_MatchTheirPattern(string name, string pattern)
    {
        Assert.Equal($"name matches {pattern}", s_default.WithholdReason(name, "plain"));
    }

    [Theory]
    [InlineData("TOKEN", "TOKEN")]
    [InlineData("SOMESECRET", "SECRET")]
    [InlineData("AWSSECRET", "SECRET")]
    [InlineData("PRIVATEKEY", "KEY")]
    [InlineData("API_KEY_1", "KEY")]
    [InlineData("SIGNING_KEY_PEM", "KEY")]
    [InlineData("DEPLOY_CREDS", "CREDS")]
    [InlineData("SENTRY_AUTH_TOKEN", "TOKEN")]
    [InlineData("session_token_v2", "TOKEN")]
    [InlineData("stripe_secret", "SECRET")]
    [InlineData("OPENAI_API_KEY", "KEY")]
    [InlineData("sshkeyfile", "KEY")]
    [InlineData("PGPASSWORD", "PASSWORD")]
    [InlineData("DB_PASSWORD_FILE", "PASSWORD")]
    [InlineData("SMTP_PASSWD", "PASSWD")]
    [InlineData("SERVICE_CREDENTIAL", "CREDENTIAL")]
    [InlineData("CREDENTIALS_JSON", "CREDENTIAL")]
    [InlineData("npm_config__auth", "AUTH")]
    [InlineData("npm_config__authToken", "TOKEN")]
    [InlineData("OAUTH_CLIENT", "AUTH")]
    [InlineData("XAUTHORITY", "AUTH")]
    [InlineData("STORAGE_SAS_URL", "SAS")]
    [InlineData("BLOBSAS", "SAS")]
    [InlineData("SQL_CONNECTION_STRING", "CONNECTION_STRING")]
    [InlineData("MAIN_CONNECTION_STRING_RO", "CONNECTION_STRING")]
    // An ordinary word in the name does not excuse a credential word beside it.
    [InlineData("TOKENIZERS_TOKEN", "TOKEN")]
    [InlineData("GIT_AUTHOR_TOKEN", "TOKEN")]
    [InlineData("MONKEYPATCH_KEY", "KEY")]
    public void WithholdReason_NameContainsCredentialWordAnywhere_Withheld(string name, string word)
    {
        Assert.Equal($"name contains {word}", s_default.WithholdReason(name, "plain"));
        Assert.Null(s_default.KeepReason(name, "plain"));
    }

    [Theory]
    [InlineData("GIT_AUTHOR_NAME", "Jane Doe", "AUTH only as part of the word AUTHOR")]
    [InlineData("npm_package_author_email", "jane@example.invalid", "AUTH only as part of the word AUTHOR")]
    [InlineData("KEYBOARD_LAYOUT", "us", "KEY only as part of the word KEYBOARD")]
    [InlineData("MONKEY", "banana", "KEY only as part of the word MONKEY")]
    [InlineData("TOKENIZERS_PARALLELISM", "false", "TOKEN only as part of the word TOKENIZERS")]
    [InlineData("SASS_BINARY_SITE", "https://mirror.example.invalid/node-sass/", "SAS only as part of the word SASS")]
    [InlineData("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt", "a CA certificate path, not a credential")]
    [InlineData("CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE", "/etc/ssl/certs/ca-certificates.crt", "a CA certificate path, not a credential")]
    [InlineData("AZURE_CA_CERTS_FILE", "/usr/local/share/ca-certificates/corp.crt", "a CA certificate path, not a credential")]
    [InlineData("PATH", "/opt/sk-tools-0123456789abcdefghijklmn/bin:/usr/bin", "a path list (PATH-like value), not a credential")]
    [InlineData("NODE_PATH", "/opt/AKIAIOSFODNN7EXAMPLE/lib", "a path list (PATH-like value), not a credential")]
    public void KeepReason_CredentialLookingButHarmless_KeptAndSaysWhy(string name, string value, string reason)
    {
        Assert.Null(s_default.WithholdReason(name, value));
        Assert.Equal(reason, s_default.KeepReason(name, value));
    }

    [Theory]
    [InlineData("AWS_CA_BUNDLE", "-----BEGIN PRIVATE KEY-----\nMIIE...", "name matches AWS_*")]
    [InlineData("AWS_CA_BUNDLE", "relative/ca.pem", "name matches AWS_*")]
    [InlineData("SSL_CERT_FILE", "https://ci:hunter2@certs.example.invalid/ca.pem", "value looks like a URL with a password")]
    [InlineData("SIGNING_KEY_PATH", "/etc/signing/key.pem", "name contains KEY")]
    public void WithholdReason_CertificateOrPathNameWithoutAPlainPath_StillWithheld(string name, string value, string reason)
    {
        Assert.Equal(reason, s_default.WithholdReason(name, value));
    }

    [Theory]
    [InlineData("PATH", "/usr/local/bin:/usr/bin")]
    [InlineData("HOME", "/home/runner")]
    [InlineData("NODE_OPTIONS", "--max-old-space-size=4096")]
    [InlineData("CI", "true")]
    [InlineData("GITHUB_ACTIONS", "true")]
    [InlineData("GITHUB_REPOSITORY", "acme/mcp-server")]
    [InlineData("KEYBOARD_LAYOUT", "us")]
    [InlineData("MONKEY", "banana")]
    [InlineData("npm_config_cache", "/tmp/npm-cache")]
    [InlineData("npm_config_registry", "https://registry.example.invalid/")]
    [InlineData("TOKENIZER", "whitespace")]
    [InlineData("npm_package_name", "npm_package")]
    [InlineData("SHORT_AKIA", "AKIA123")]
    [InlineData("NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt")]
    [InlineData("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")]
    [InlineData("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")]
    [InlineData("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")]
    [InlineData("CASSANDRA_HOST", "db.example.invalid")]
    public void WithholdReason_OrdinaryVariables_AreKept(string name, string value)
    {
        Assert.Null(s_default.WithholdReason(name, value));
    }

    [Theory]
    [InlineData("ghp_0123456789abcdefghijklmnopqrstuvwxyz", "a GitHub token")]
    [InlineData("github_pat_11AAAAAAA0123456789_abcdefghijklmnopqrstuvwxyz", "a GitHub token")]
    [InlineData("ghs_0123456789abcdefghijklmnopqrstuvwxyz", "a GitHub token")]
    [InlineData("glpat-0123456789abcdefghij", "a GitLab token")]
    [InlineData("npm_0123456789abcdefghijklmnopqrstuvwxyz", "an npm token")]
    [InlineData("AKIAIOSFODNN7EXAMPLE", "an AWS access key")]
    [InlineData("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...", "a private key or certificate")]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFy==;EndpointSuffix=core.example.invalid", "a connection string with a key")]
    [InlineData("Endpoint=sb://acme.example.invalid/;SharedAccessKeyName=send;SharedAccessKey=Zm9v=", "a connection string with a key")]
    [InlineData("xoxb-123-456-abc", "a Slack token")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl", "a signed token (JWT)")]
    [InlineData("postgres://app:hunter2@db.example.invalid:5432/app", "a URL with a password")]
    [InlineData("https://user:tok@registry.example.invalid/simple/", "a URL with a password")]
    // Formats the MCP audit's SecretDetector knows.
    [InlineData("sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123", "an Anthropic API key")]
    [InlineData("sk-proj-abcdefghijklmnopqrstuvwxyz0123", "an OpenAI API key")]
    [InlineData("Bearer-less key sk-abcdefghijklmnopqrstuvwxyz in text", "an OpenAI API key")]
    public void SecretValueKind_WellKnownCredentialShapes_AreRecognised(string value, string kind)
    {
        Assert.Equal(kind, EnvironmentScrubber.SecretValueKind(value));
        Assert.Equal($"value looks like {kind}", s_default.WithholdReason("SOME_SETTING", value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("npm_config")]
    [InlineData("npm_package_version_is_short")]
    [InlineData("https://registry.example.invalid/npm/")]
    [InlineData("https://user@registry.example.invalid/")]
    [InlineData("eyJ-not-a-jwt")]
    [InlineData("AKIA")]
    [InlineData("ghp")]
    public void SecretValueKind_OrdinaryValues_AreNotSecrets(string value)
    {
        Assert.Null(EnvironmentScrubber.SecretValueKind(value));
    }

    [Fact]
    public void Scrub_MixedEnvironment_RemovesSecretsKeepsTheRestInNameOrder()
    {
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin",
            ["AZURE_CLIENT_SECRET"] = "s3cr3t-value",
            ["BUILD_NOTE"] = "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
            ["HOME"] = "/home/runner",
        };

        var scrubbed = s_default.Scrub(environment);

        Assert.Equal(["HOME", "PATH"], scrubbed.Variables.Keys);
        Assert.Equal(
            [new WithheldVariable("AZURE_CLIENT_SECRET", "name matches AZURE_*"), new WithheldVariable("BUILD_NOTE", "value looks like a GitHub token")],
            scrubbed.Withheld.AsEnumerable());
        Assert.All(scrubbed.Withheld, w => Assert.DoesNotContain("s3cr3t", w.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Scrub_KeepList_KeepsNamedVariablesWhateverTheyLookLike()
    {
        var scrubber = new EnvironmentScrubber(["azure_client_id", "BUILD_*"]);
        var environment = new Dictionary<string, string>
        {
            ["AZURE_CLIENT_ID"] = "id",
            ["AZURE_CLIENT_SECRET"] = "s3cr3t",
            ["BUILD_NOTE"] = "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
        };

        var scrubbed = scrubber.Scrub(environment);

        Assert.Equal(["AZURE_CLIENT_ID", "BUILD_NOTE"], scrubbed.Variables.Keys);
        Assert.Equal("AZURE_CLIENT_SECRET", Assert.Single(scrubbed.Withheld).Name);
        Assert.Equal(
        [
            new KeptVariable("AZURE_CLIENT_ID", "on the keep list (--keep-env or TOLLGATE_KEEP_ENV); otherwise withheld: name matches AZURE_*"),
            new KeptVariable("BUILD_NOTE", "on the keep list (--keep-env or TOLLGATE_KEEP_ENV); otherwise withheld: value looks like a GitHub token"),
        ], scrubbed.Kept.AsEnumerable());
    }

    [Fact]
    public void Scrub_CredentialLookingNames_KeptOnesListedWithReasonsOrdinaryOnesNot()
    {
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin",
            ["GIT_AUTHOR_NAME"] = "Jane Doe",
            ["AWS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt",
            ["AWS_SECRET_ACCESS_KEY"] = "s3cr3t",
        };

        var scrubbed = s_default.Scrub(environment);

        Assert.Equal(["AWS_CA_BUNDLE", "GIT_AUTHOR_NAME", "PATH"], scrubbed.Variables.Keys);
        Assert.Equal(["AWS_CA_BUNDLE", "GIT_AUTHOR_NAME"], scrubbed.Kept.Select(k => k.Name));
        Assert.Equal("AWS_SECRET_ACCESS_KEY", Assert.Single(scrubbed.Withheld).Name);
    }

    [Fact]
    public void KeepList_FlagsAndVariable_AreCombinedWithoutDuplicates()
    {
        var environment = new Dictionary<string, string> { [EnvironmentScrubber.KeepListVariable] = " NPM_TOKEN , ,AZURE_CLIENT_ID" };

        var keep = EnvironmentScrubber.KeepList(["azure_client_id", "MY_KEY"], environment);

        Assert.Equal(["azure_client_id", "MY_KEY", "NPM_TOKEN"], keep.AsEnumerable());
    }

    [Fact]
    public void KeepList_NoVariable_IsTheFlags()
    {
        Assert.Equal(["A"], EnvironmentScrubber.KeepList(["A"], new Dictionary<string, string>()).AsEnumerable());
    }

    [Theory]
    [InlineData("--index-url=https://user:hunter2@pypi.example.invalid/simple/", "--index-url=https://***@pypi.example.invalid/simple/")]
    [InlineData("ghp_0123456789abcdefghijklmnopqrstuvwxyz", "***")]
    [InlineData("--offline", "--offline")]
    public void Redact_CommandLineArguments_HidesCredentials(string argument, string shown)
    {
        Assert.Equal(shown, EnvironmentScrubber.Redact(argument));
    }
}
