"""An upload the server refuses as too large (HTTP 413) shows a message in the page (assets/http_errors.js);
without it the renderer drops a non-200 callback answer silently (RELIABILITY #13)."""

from __future__ import annotations

from app import create_app
from app.settings import Settings


def test_an_upload_over_the_limit_shows_the_servers_message(dash_duo, tmp_path):
    app = create_app(Settings(live_data=False, job_cache_dir=tmp_path / "jobs", max_upload_mb=1))
    big = tmp_path / "big.csv"
    row = "2024-01-02,1.0,2.0,0.5,1.5,100\n"
    big.write_text("date,open,high,low,close,volume\n" + row * (3 * 1024 * 1024 // len(row)))  # 3 MB > 2.4 MB body
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/market")
    dash_duo.wait_for_text_to_equal(".source-badge .badge", "BUNDLED", timeout=20)
    dash_duo.find_element("#mkt-upload input[type=file]").send_keys(str(big))
    dash_duo.wait_for_contains_text("#neon-http-error", "too large", timeout=20)
    assert "1 MB" in dash_duo.find_element("#neon-http-error").text
    dash_duo.find_element("#neon-http-error .btn-close").click()
    dash_duo.wait_for_no_elements("#neon-http-error", timeout=5)
