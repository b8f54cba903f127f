"""The console in a real browser (Selenium on Debian's Chromium)."""

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


class Browser:
    """The console in a real browser: sign in, open pages, wait for what a person would see."""

    def __init__(self, driver, base):
        self.driver, self.base = driver, base

    def open(self):
        self.driver.get(f"{self.base}/console")
        self.wait_for("#sign-in")

    def sign_in(self, email, password):
        self.open()
        self.find("input[name=email]").send_keys(email)
        self.find("input[name=password]").send_keys(password)
        self.find("#sign-in button").click()

    def go(self, page):
        self.driver.execute_script("location.hash = arguments[0]", f"#/{page}")

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, css, timeout=10):
        return self.wait_until(lambda: self.find(css), timeout)

    def wait_until(self, predicate, timeout=10):
        """Poll `predicate` until it is truthy. A page re-renders what it refreshes, so an element
        found a moment ago may be gone by the time it is read: that counts as not yet."""
        wait = WebDriverWait(
            self.driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
        )
        return wait.until(lambda _d: predicate())

    def text(self, css="body"):
        return self.find(css).text
